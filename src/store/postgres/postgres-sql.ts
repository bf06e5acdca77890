import { JOB_COLUMNS, TELEGRAM_RECORD_COLUMNS } from '../store-rows.js';
import { WORK_CHANNEL } from './work-listener.js';

const TELEGRAM_VALUES = `$1::text, $2::text, $3::text, $4::float8, $5::text, $6::text, $7::text, $8::text, $9::text,
  'queued', 0, $10::bigint, $10::bigint, $11::text`;
const TELEGRAM_COLUMNS = `ingest_id, gateway_id, rx_time, rssi_dbm, mode, raw_hex, meter_id, manufacturer, dedup_hash,
  status, attempts, next_attempt_at, created_at, key_hex`;
/** Raw message + NOTIFY, both only when the telegram row `t` was written. */
const INSERT_TAIL = `o AS (INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at)
    SELECT $12::text, $13::text, $14::text, $15::text, $16::int, $17::bool, $10::bigint FROM t),
  n AS (SELECT pg_notify('${WORK_CHANNEL}', $18::text) FROM t)
  SELECT COUNT(*)::int AS inserted FROM n`;

/** Hot-path statements, prepared once per pooled connection (pg caches them by name). */
export const SQL = {
  insert: { name: 'oms_insert', text: `WITH t AS (INSERT INTO telegrams (${TELEGRAM_COLUMNS}) VALUES (${TELEGRAM_VALUES}) RETURNING ingest_id),
  ${INSERT_TAIL}` },
  // The dedup claim, the telegram and its raw message are one statement, hence
  // one transaction: a repeat inside the window writes nothing.
  insertDedup: { name: 'oms_insert_dedup', text: `WITH d AS (
    INSERT INTO dedup (dedup_hash, ingest_id, expires_at) VALUES ($9::text, $1::text, $19::bigint)
    ON CONFLICT (dedup_hash) DO UPDATE SET ingest_id = excluded.ingest_id, expires_at = excluded.expires_at
    WHERE dedup.expires_at <= $10::bigint RETURNING ingest_id),
  t AS (INSERT INTO telegrams (${TELEGRAM_COLUMNS}) SELECT ${TELEGRAM_VALUES} FROM d RETURNING ingest_id),
  ${INSERT_TAIL}` },
  dedupGet: { name: 'oms_dedup_get', text: 'SELECT ingest_id FROM dedup WHERE dedup_hash = $1' },
  // DEDUP_SCOPE=global: claims and the reception's row are separate statements of one transaction.
  dedupClaim: { name: 'oms_dedup_claim', text: `INSERT INTO dedup (dedup_hash, ingest_id, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (dedup_hash) DO UPDATE SET ingest_id = excluded.ingest_id, expires_at = excluded.expires_at
    WHERE dedup.expires_at <= $4 RETURNING ingest_id` },
  // Waits on a concurrent claim of the same transmission (unique key), then the caller reads the winner.
  mergeClaim: { name: 'oms_merge_claim', text: `INSERT INTO merges (merge_hash, ingest_id, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (merge_hash) DO UPDATE SET ingest_id = excluded.ingest_id, expires_at = excluded.expires_at
    WHERE merges.expires_at <= $4 RETURNING ingest_id` },
  mergeGet: { name: 'oms_merge_get', text: 'SELECT ingest_id FROM merges WHERE merge_hash = $1' },
  insertReception: { name: 'oms_insert_reception', text: `WITH t AS (INSERT INTO telegrams (${TELEGRAM_COLUMNS}, merged_into)
      VALUES ($1::text, $2::text, $3::text, $4::float8, $5::text, $6::text, $7::text, $8::text, $9::text,
        $19::text, 0, $20::bigint, $10::bigint, $11::text, $21::text) RETURNING ingest_id),
    o AS (INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at)
      SELECT $12::text, $13::text, $14::text, $15::text, $16::int, $17::bool, $10::bigint FROM t),
    n AS (SELECT pg_notify('${WORK_CHANNEL}', $18::text) FROM t WHERE $21::text IS NULL)
    SELECT COUNT(*)::int AS n FROM n` },
  receptions: { name: 'oms_receptions', text: `SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE ingest_id = $1
    UNION ALL SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE merged_into = $1` },
  // graphile-worker/pg-boss pattern: pick with SKIP LOCKED, lease in the same statement.
  claimJobs: { name: 'oms_claim_jobs', text: `UPDATE telegrams SET status = 'processing', locked_by = $1, locked_until = $2,
      lease_seq = telegrams.lease_seq + 1, claims = telegrams.claims + 1
    FROM (SELECT ingest_id FROM telegrams
          WHERE (status = 'queued' AND next_attempt_at <= $3) OR (status = 'processing' AND locked_until < $3)
          ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED) c
    WHERE telegrams.ingest_id = c.ingest_id
    RETURNING ${JOB_COLUMNS.split(', ').map((c) => `telegrams.${c}`).join(', ')}` },
  renew: { name: 'oms_renew', text: `UPDATE telegrams SET locked_until = $1
    WHERE ingest_id = ANY($2::text[]) AND locked_by = $3 AND status = 'processing'` },
  retry: { name: 'oms_retry', text: `WITH u AS (
      UPDATE telegrams SET status = 'queued', attempts = $1, next_attempt_at = $2, error_code = $3, last_error = $4,
        locked_by = NULL, locked_until = NULL, claims = 0
      WHERE ingest_id = $5 AND status = 'processing' AND locked_by = $7 AND lease_seq = $8 RETURNING 1)
    SELECT COUNT(*) AS n FROM (SELECT pg_notify('${WORK_CHANNEL}', $6::text) FROM u) n` },
  finish: { name: 'oms_finish', text: `WITH f AS (
      UPDATE telegrams SET status = $2, attempts = $3, error_code = $4, last_error = $5, finished_at = $6::bigint, key_hex = NULL,
        locked_by = NULL, locked_until = NULL, replay = FALSE, claims = 0
      WHERE ingest_id = $1::text AND status = 'processing' AND locked_by = $14 AND lease_seq = $15 RETURNING 1),
    r AS (INSERT INTO parse_results (ingest_id, parsed_json, created_at, published_at) SELECT $1::text, $7, $6::bigint, NULL FROM f
      ON CONFLICT (ingest_id) DO UPDATE SET parsed_json = excluded.parsed_json, created_at = excluded.created_at, published_at = NULL),
    o AS (INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at)
      SELECT m.ingest_id, m.kind, m.topic, m.payload, m.qos, m.retain, $6::bigint
      FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::bool[])
        WITH ORDINALITY AS m(ingest_id, kind, topic, payload, qos, retain, ord)
      WHERE EXISTS (SELECT 1 FROM f)
      ORDER BY m.ord)
    SELECT COUNT(*) AS n FROM f` },
  nextDue: { name: 'oms_next_due', text: "SELECT MIN(next_attempt_at) AS due FROM telegrams WHERE status = 'queued'" },
  depths: { name: 'oms_depths', text: `SELECT
      (SELECT COUNT(*) FROM telegrams WHERE status IN ('queued', 'processing')) AS queue,
      (SELECT COUNT(*) FROM outbox) AS outbox,
      (SELECT created_at FROM outbox ORDER BY id LIMIT 1) AS oldest` },
  getTelegram: { name: 'oms_get_telegram', text: `SELECT ${TELEGRAM_RECORD_COLUMNS}
    FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id WHERE t.ingest_id = $1` },
  getKey: { name: 'oms_get_key', text: 'SELECT key_hex FROM meter_keys WHERE meter_id = $1' },
  // A meter with a key leaves the "keys needed" list in the same statement.
  putKey: { name: 'oms_put_key', text: `WITH k AS (
      INSERT INTO meter_keys (meter_id, manufacturer, key_hex, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, key_hex = excluded.key_hex, updated_at = excluded.updated_at),
    m AS (DELETE FROM key_missing WHERE meter_id = $1)
    DELETE FROM key_missing_gateways WHERE meter_id = $1` },
  claimOutbox: { name: 'oms_claim_outbox', text: `UPDATE outbox SET locked_by = $1, locked_until = $2
    FROM (SELECT id FROM outbox WHERE locked_until < $3 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) c
    WHERE outbox.id = c.id
    RETURNING outbox.id, outbox.ingest_id, outbox.kind, outbox.topic, outbox.payload, outbox.qos, outbox.retain` },
  markPublished: { name: 'oms_mark_published', text: `WITH d AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING ingest_id, kind)
    UPDATE parse_results SET published_at = $2
    WHERE ingest_id IN (SELECT ingest_id FROM d WHERE kind <> 'raw' AND ingest_id IS NOT NULL)` },
  releaseOutbox: { name: 'oms_release_outbox', text: 'UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE id = ANY($1::bigint[])' },
  purgeDedup: { name: 'oms_purge_dedup', text: `WITH c AS (DELETE FROM client_ids WHERE expires_at <= $1 RETURNING 1),
    d AS (DELETE FROM dedup WHERE expires_at <= $1 RETURNING 1),
    m AS (DELETE FROM merges WHERE expires_at <= $1 RETURNING 1)
    SELECT (SELECT COUNT(*) FROM c) + (SELECT COUNT(*) FROM d) + (SELECT COUNT(*) FROM m) AS n` },
  // Waits on a concurrent upload of the same client id (unique index), then sees its committed row.
  clientClaim: { name: 'oms_client_claim', text: `INSERT INTO client_ids (gateway_id, client_id, ingest_id, duplicate, expires_at)
    VALUES ($1, $2, $3, FALSE, $4)
    ON CONFLICT (gateway_id, client_id) DO UPDATE SET ingest_id = excluded.ingest_id, duplicate = FALSE, expires_at = excluded.expires_at
    WHERE client_ids.expires_at <= $5 RETURNING ingest_id` },
  clientGet: { name: 'oms_client_get', text: 'SELECT ingest_id, duplicate FROM client_ids WHERE gateway_id = $1 AND client_id = $2' },
  clientSetDuplicate: { name: 'oms_client_dup', text: 'UPDATE client_ids SET ingest_id = $1, duplicate = TRUE WHERE gateway_id = $2 AND client_id = $3' },
  purgeFinished: {
    name: 'oms_purge_finished',
    text: `WITH victims AS (
             SELECT ingest_id FROM telegrams WHERE created_at < $1 AND status IN ('done', 'error', 'merged')
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
           results AS (DELETE FROM parse_results WHERE ingest_id IN (SELECT ingest_id FROM victims))
           DELETE FROM telegrams WHERE ingest_id IN (SELECT ingest_id FROM victims)`,
  },
} as const;
