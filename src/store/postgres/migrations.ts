/**
 * PostgreSQL schema, applied in order; the index in this list is the schema
 * version. Same tables and columns as SQLITE_MIGRATIONS (migration N here
 * matches migration N there): epoch-ms times are BIGINT, flags are BOOLEAN.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE telegrams (
    ingest_id TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    rx_time TEXT NOT NULL,
    rssi_dbm DOUBLE PRECISION,
    mode TEXT,
    raw_hex TEXT NOT NULL,
    meter_id TEXT,
    manufacturer TEXT,
    dedup_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    last_error TEXT,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    key_hex TEXT,
    locked_by TEXT,
    locked_until BIGINT,
    replay BOOLEAN NOT NULL DEFAULT FALSE
  );
  CREATE INDEX telegrams_queued ON telegrams (next_attempt_at) WHERE status = 'queued';
  CREATE INDEX telegrams_processing ON telegrams (locked_until) WHERE status = 'processing';
  CREATE INDEX telegrams_created ON telegrams (created_at);
  CREATE INDEX telegrams_meter ON telegrams (meter_id, created_at);

  CREATE TABLE dedup (
    dedup_hash TEXT PRIMARY KEY,
    ingest_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );

  CREATE TABLE parse_results (
    ingest_id TEXT PRIMARY KEY,
    parsed_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT
  );

  CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ingest_id TEXT,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    qos INTEGER NOT NULL,
    retain BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT NOT NULL DEFAULT 0
  );

  CREATE TABLE meter_keys (
    meter_id TEXT PRIMARY KEY,
    manufacturer TEXT,
    key_hex TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  `,
  `
  CREATE TABLE key_missing (
    meter_id TEXT PRIMARY KEY,
    manufacturer TEXT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX key_missing_last_seen ON key_missing (last_seen, meter_id);

  CREATE TABLE key_missing_gateways (
    meter_id TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    PRIMARY KEY (meter_id, gateway_id)
  );

  CREATE TABLE mappings (
    version INTEGER PRIMARY KEY,
    json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT FALSE
  );

  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    actor TEXT NOT NULL,
    details TEXT
  );

  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE parser_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    open_until BIGINT NOT NULL,
    paused_until BIGINT NOT NULL
  );
  INSERT INTO parser_state (id, open_until, paused_until) VALUES (1, 0, 0);
  `,
  // 3: fencing. lease_seq is the fence token of the current lease; claims counts
  // claims without an orderly outcome, so a telegram that kills the process ends.
  `
  ALTER TABLE telegrams ADD COLUMN lease_seq BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE telegrams ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
  `,
  // 4: batch upload idempotency (issue 12): a gateway's client_id → the answer it got, for 24 h.
  `
  CREATE TABLE client_ids (
    gateway_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    ingest_id TEXT NOT NULL,
    duplicate BOOLEAN NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (gateway_id, client_id)
  );
  CREATE INDEX client_ids_expires ON client_ids (expires_at);
  `,
  // 5: meter liveness (issue 13): last seen, learned send interval, gateways, last error, status.
  // stale_at is when silence makes the meter stale, so finding stale meters is one index range.
  `
  CREATE TABLE meters (
    meter_id TEXT PRIMARY KEY,
    manufacturer TEXT,
    status TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    interval_ms BIGINT,
    gaps TEXT NOT NULL,
    gateways TEXT NOT NULL,
    last_error_code TEXT,
    last_error TEXT,
    stale_at BIGINT NOT NULL
  );
  CREATE INDEX meters_due ON meters (stale_at) WHERE status <> 'stale';
  CREATE INDEX meters_by_status ON meters (status, meter_id);
  `,
  // 6: the "keys needed" list becomes the "key problems" list (issue 11): the latest reason per meter
  // (key_missing, wrong_key, truncated, unsupported_mode) and its one-sentence detail. Old rows were all key_missing.
  `
  ALTER TABLE key_missing ADD COLUMN problem TEXT NOT NULL DEFAULT 'key_missing';
  ALTER TABLE key_missing ADD COLUMN detail TEXT;
  CREATE INDEX key_missing_problem ON key_missing (problem, last_seen, meter_id);
  `,
  // 7: a meter's readings (issue 14, console): the newest done telegram per meter without walking its failed
  // ones (a meter failing to decrypt for RETENTION_DAYS would otherwise be thousands of rows per lookup).
  `
  CREATE INDEX telegrams_meter_done ON telegrams (meter_id, created_at) WHERE status = 'done';
  `,
  // 8: gateway liveness (issue 12): last seen per gateway and its online/silent state, so one
  // instance publishes each change once. Folded from the telegram table by the monitor, not per insert.
  `
  CREATE TABLE gateways (
    gateway_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
  );
  `,
  // 9: one reading per radio transmission (issue 12, DEDUP_SCOPE=global). merges: the first reception
  // of a transmission claims its hash for MERGE_WINDOW_MS; later ones are stored as status 'merged'
  // with merged_into = the claiming telegram, whose job lists them all.
  `
  ALTER TABLE telegrams ADD COLUMN merged_into TEXT;
  CREATE INDEX telegrams_merged ON telegrams (merged_into) WHERE merged_into IS NOT NULL;
  CREATE TABLE merges (
    merge_hash TEXT PRIMARY KEY,
    ingest_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX merges_expires ON merges (expires_at);
  `,
];
