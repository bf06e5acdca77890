import type pg from 'pg';
import { BridgeError } from '../../lib/errors.js';
import type { TelegramIntake } from '../roles.js';
import type { BatchInsert, BatchInsertResult, Depths, InsertResult, MergeSpec, NewTelegram, OutboxMessage } from '../store.js';
import { pgStoreError } from './pg-errors.js';
import { type NamedQuery, type Queryable, rows } from './pg-query.js';
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

const SQL = {
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
  // Waits on a concurrent upload of the same client id (unique index), then sees its committed row.
  clientClaim: { name: 'oms_client_claim', text: `INSERT INTO client_ids (gateway_id, client_id, ingest_id, duplicate, expires_at)
    VALUES ($1, $2, $3, FALSE, $4)
    ON CONFLICT (gateway_id, client_id) DO UPDATE SET ingest_id = excluded.ingest_id, duplicate = FALSE, expires_at = excluded.expires_at
    WHERE client_ids.expires_at <= $5 RETURNING ingest_id` },
  clientGet: { name: 'oms_client_get', text: 'SELECT ingest_id, duplicate FROM client_ids WHERE gateway_id = $1 AND client_id = $2' },
  clientSetDuplicate: { name: 'oms_client_dup', text: 'UPDATE client_ids SET ingest_id = $1, duplicate = TRUE WHERE gateway_id = $2 AND client_id = $3' },
  depths: { name: 'oms_depths', text: `SELECT
      (SELECT COUNT(*) FROM telegrams WHERE status IN ('queued', 'processing')) AS queue,
      (SELECT COUNT(*) FROM outbox) AS outbox,
      (SELECT created_at FROM outbox ORDER BY id LIMIT 1) AS oldest` },
} as const;

/** The request path on PostgreSQL: each insert announces the new job with NOTIFY in the same statement. */
export class PostgresTelegramIntake implements TelegramIntake {
  constructor(
    private readonly pool: () => pg.Pool,
    /** Payload of our NOTIFYs, so our own listener skips them. */
    private readonly token: string,
  ) {}

  async insertTelegram(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    try {
      return await insertOne(this.pool(), this.token, t, raw, dedupWindowMs);
    } catch (err) {
      throw pgStoreError(err);
    }
  }

  async insertTelegrams(items: BatchInsert[], dedupWindowMs: number | null, clientIdTtlMs: number): Promise<BatchInsertResult[]> {
    try {
      return await insertBatch(this.pool(), this.token, items, dedupWindowMs, clientIdTtlMs);
    } catch (err) {
      throw pgStoreError(err);
    }
  }

  /** The dedup window is a shared table here: nothing to read in. */
  async prepareIntake(_dedupWindowMs: number | null): Promise<void> {}

  async depths(): Promise<Depths> {
    const [row] = await rows(this.pool(), SQL.depths);
    return { queue: Number(row?.queue ?? 0), outbox: Number(row?.outbox ?? 0), oldestOutboxAt: (row?.oldest as number | null | undefined) ?? null };
  }
}

async function insertItem(on: Queryable, token: string, { telegram: t, raw, clientId }: BatchInsert, dedupWindowMs: number | null, ttlMs: number): Promise<BatchInsertResult> {
  if (clientId !== null) {
    const [claimed] = await rows(on, SQL.clientClaim, [t.gatewayId, clientId, t.ingestId, t.createdAt + ttlMs, t.createdAt]);
    if (!claimed) {
      const [first] = await rows(on, SQL.clientGet, [t.gatewayId, clientId]);
      if (!first) throw new BridgeError('dedup_conflict', 'client_id entry changed under the upload', { retryable: true });
      return { ingestId: first.ingest_id as string, duplicate: first.duplicate === true, repeated: true };
    }
  }
  const result = await insertOn(on, token, t, raw, dedupWindowMs);
  if (clientId !== null && result.duplicate) await rows(on, SQL.clientSetDuplicate, [result.ingestId, t.gatewayId, clientId]);
  return { ...result, repeated: false };
}

async function insertOn(on: Queryable, token: string, t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
  if (t.merge) return insertReception(on, token, t, t.merge, raw, dedupWindowMs);
  const values: unknown[] = [
    t.ingestId, t.gatewayId, t.rxTime, t.rssiDbm, t.mode, t.rawHex, t.meterId, t.manufacturer, t.dedupHash, t.createdAt, t.keyHex,
    raw.ingestId, raw.kind, raw.topic, raw.payload, raw.qos, raw.retain, token,
  ];
  if (dedupWindowMs === null) {
    await rows(on, SQL.insert, values);
    return { ingestId: t.ingestId, duplicate: false };
  }
  values.push(t.createdAt + dedupWindowMs);
  // The second round only matters when the first entry expired and was purged between the two statements.
  for (let round = 0; round < 2; round++) {
    const [row] = await rows(on, SQL.insertDedup, values);
    if (row?.inserted === 1) return { ingestId: t.ingestId, duplicate: false };
    // ON CONFLICT waited for the other writer, so this newer snapshot sees its entry.
    const [first] = await rows(on, SQL.dedupGet, [t.dedupHash]);
    if (first) return { ingestId: first.ingest_id as string, duplicate: true };
  }
  throw new BridgeError('dedup_conflict', 'could not record the telegram against a changing dedup entry', { retryable: true });
}

/**
 * DEDUP_SCOPE=global, inside the caller's transaction: the per-gateway dedup claim, then the
 * transmission's merge claim. Concurrent first receptions (other instances too) queue on the claim's
 * unique key; exactly one commits as the job, the others read it and join it.
 */
async function claimOrGet(on: Queryable, claim: NamedQuery, get: NamedQuery, key: string, t: NewTelegram, until: number): Promise<string | null> {
  // The second round only matters when the first entry expired and was purged between the two statements.
  for (let round = 0; round < 2; round++) {
    const [claimed] = await rows(on, claim, [key, t.ingestId, until, t.createdAt]);
    if (claimed) return null;
    const [first] = await rows(on, get, [key]);
    if (first) return first.ingest_id as string;
  }
  throw new BridgeError('dedup_conflict', 'could not record the telegram against a changing dedup entry', { retryable: true });
}

async function insertReception(on: Queryable, token: string, t: NewTelegram, m: MergeSpec, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
  if (dedupWindowMs !== null) {
    const earlier = await claimOrGet(on, SQL.dedupClaim, SQL.dedupGet, t.dedupHash, t, t.createdAt + dedupWindowMs);
    if (earlier !== null) return { ingestId: earlier, duplicate: true };
  }
  const mergedInto = await claimOrGet(on, SQL.mergeClaim, SQL.mergeGet, m.hash, t, m.until);
  await rows(on, SQL.insertReception, [
    t.ingestId, t.gatewayId, t.rxTime, t.rssiDbm, t.mode, t.rawHex, t.meterId, t.manufacturer, t.dedupHash, t.createdAt,
    // A joining reception's key would never be used: the job runs with the first one's.
    mergedInto === null ? t.keyHex : null,
    raw.ingestId, raw.kind, raw.topic, raw.payload, raw.qos, raw.retain, token,
    mergedInto === null ? 'queued' : 'merged', mergedInto === null ? m.dueAt : t.createdAt, mergedInto,
  ]);
  return mergedInto === null ? { ingestId: t.ingestId, duplicate: false } : { ingestId: t.ingestId, duplicate: false, mergedInto };
}

async function insertOne(pool: pg.Pool, token: string, t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
  if (!t.merge) return insertOn(pool, token, t, raw, dedupWindowMs);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await insertOn(client, token, t, raw, dedupWindowMs);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function insertBatch(pool: pg.Pool, token: string, items: BatchInsert[], dedupWindowMs: number | null, clientIdTtlMs: number): Promise<BatchInsertResult[]> {
  // Two uploads that share client ids in a different order can deadlock; PostgreSQL aborts one, which goes again.
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const results: BatchInsertResult[] = [];
      for (const item of items) results.push(await insertItem(client, token, item, dedupWindowMs, clientIdTtlMs));
      await client.query('COMMIT');
      return results;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      const code = (err as { code?: unknown }).code;
      if ((code === '40P01' || code === '40001') && attempt < 3) continue;
      if (code === '40P01' || code === '40001') throw new BridgeError('store_busy', 'batch kept conflicting with another upload', { retryable: true, cause: err });
      throw err;
    } finally {
      client.release();
    }
  }
}
