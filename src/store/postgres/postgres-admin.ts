import type pg from 'pg';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type {
  AuditRecord, GatewayStats, KeyProblemKind, KeyProblemMeter, KeyProblemReport, MappingVersion, MeterKeyRecord, Page, ParserState, ReplayResult, TelegramFilter, TelegramRecord,
} from '../store.js';
import { KEY_MISSING_GATEWAYS_MAX, KEY_PROBLEM_DETAIL_MAX } from '../store.js';
import {
  KEY_PROBLEM_COLUMNS, TELEGRAM_RECORD_COLUMNS, keyProblemCounts, toAudit, toKeyProblem, toMapping, toMeterKey, toTelegramRecord, type Row,
} from '../store-rows.js';
import { telegramFilter } from '../telegram-filter.js';
import { WORK_CHANNEL } from './work-listener.js';

const MAPPING_COLUMNS = 'version, json, created_at, active';
const KEY_PROBLEM_SELECT = `SELECT ${KEY_PROBLEM_COLUMNS},
  ARRAY(SELECT g.gateway_id FROM key_missing_gateways g WHERE g.meter_id = k.meter_id ORDER BY g.gateway_id) AS gateways
  FROM key_missing k`;

/** Runs `fn` in one transaction on one pooled connection. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A failed ROLLBACK means the connection is broken: destroy it instead of returning it to the pool.
    await client.query('ROLLBACK').then(() => client.release(), (e: unknown) => client.release(e as Error));
    throw err;
  }
}

/** Placeholder builder for dynamic SQL: adds a value and returns `$n`. */
function params(): { values: unknown[]; add: (value: unknown) => string } {
  const values: unknown[] = [];
  return { values, add: (value) => `$${values.push(value)}` };
}

/**
 * Admin queries of the PostgreSQL store; PostgresStore delegates here. Admin
 * calls are rare, so they favour plain statements and short transactions over
 * the single-statement CTEs of the hot path.
 */
export class PostgresAdmin {
  constructor(
    private readonly pool: () => pg.Pool,
    /** Payload of our own NOTIFY, so our listener ignores it. */
    private readonly notifyToken: string,
  ) {}

  private async rows(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.pool().query<Row>(text, values)).rows;
  }

  async listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>> {
    const n = pageLimit(limit) + 1;
    const rows = cursor === null
      ? await this.rows('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys ORDER BY meter_id LIMIT $1', [n])
      : await this.rows('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id > $1 ORDER BY meter_id LIMIT $2',
        [decodeCursor(cursor, ['string'] as const)[0], n]);
    return toPage(rows, limit, toMeterKey, (r) => [r.meter_id as string]);
  }

  async getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined> {
    const [row] = await this.rows('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id = $1', [meterId]);
    return row ? toMeterKey(row) : undefined;
  }

  async deleteMeterKey(meterId: string): Promise<boolean> {
    const result = await this.pool().query('DELETE FROM meter_keys WHERE meter_id = $1', [meterId]);
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * One statement. key_missing is skipped when the key was stored since the caller looked it up.
   * All SET expressions read the old row, so a new kind restarts count and first_seen.
   */
  async recordKeyProblem(r: KeyProblemReport): Promise<void> {
    await this.pool().query(
      `WITH k AS (
         INSERT INTO key_missing (meter_id, manufacturer, problem, detail, first_seen, last_seen, count)
         SELECT $1::text, $2::text, $5::text, $6::text, $3::bigint, $3::bigint, 1
         WHERE $5::text <> 'key_missing' OR NOT EXISTS (SELECT 1 FROM meter_keys WHERE meter_id = $1)
         ON CONFLICT (meter_id) DO UPDATE SET manufacturer = COALESCE(excluded.manufacturer, key_missing.manufacturer),
           first_seen = CASE WHEN key_missing.problem = excluded.problem THEN LEAST(key_missing.first_seen, excluded.first_seen) ELSE excluded.first_seen END,
           last_seen = GREATEST(key_missing.last_seen, excluded.last_seen),
           count = CASE WHEN key_missing.problem = excluded.problem THEN key_missing.count + 1 ELSE 1 END,
           problem = excluded.problem, detail = excluded.detail
         RETURNING meter_id)
       INSERT INTO key_missing_gateways (meter_id, gateway_id)
       SELECT $1::text, $4::text WHERE EXISTS (SELECT 1 FROM k)
         AND (SELECT COUNT(*) FROM key_missing_gateways WHERE meter_id = $1) < ${KEY_MISSING_GATEWAYS_MAX}
       ON CONFLICT DO NOTHING`,
      [r.meterId, r.manufacturer, r.now, r.gatewayId, r.problem, r.detail.slice(0, KEY_PROBLEM_DETAIL_MAX)],
    );
  }

  async listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>> {
    const n = pageLimit(limit) + 1;
    // $1 null = every kind; the (problem, last_seen, meter_id) index serves the filtered walk.
    const kind = '($1::text IS NULL OR k.problem = $1)';
    let rows: Row[];
    if (cursor === null) rows = await this.rows(`${KEY_PROBLEM_SELECT} WHERE ${kind} ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT $2`, [problem, n]);
    else {
      const [lastSeen, meterId] = decodeCursor(cursor, ['number', 'string'] as const);
      rows = await this.rows(
        `${KEY_PROBLEM_SELECT} WHERE ${kind} AND (k.last_seen, k.meter_id) < ($2, $3) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT $4`,
        [problem, lastSeen, meterId, n],
      );
    }
    return toPage(rows, limit, toKeyProblem, (r) => [r.last_seen as number, r.meter_id as string]);
  }

  async pruneKeyProblems(before: number, maxEntries: number): Promise<number> {
    return inTransaction(this.pool(), async (c) => {
      const old = await c.query('DELETE FROM key_missing WHERE last_seen < $1', [before]);
      const over = await c.query(
        'DELETE FROM key_missing WHERE meter_id IN (SELECT meter_id FROM key_missing ORDER BY last_seen DESC, meter_id DESC OFFSET $1)',
        [maxEntries],
      );
      const n = (old.rowCount ?? 0) + (over.rowCount ?? 0);
      if (n > 0) await c.query('DELETE FROM key_missing_gateways g WHERE NOT EXISTS (SELECT 1 FROM key_missing k WHERE k.meter_id = g.meter_id)');
      return n;
    });
  }

  async countKeyProblems(): Promise<Record<KeyProblemKind, number>> {
    return keyProblemCounts(await this.rows('SELECT problem, COUNT(*) AS n FROM key_missing GROUP BY problem'));
  }

  async getActiveMapping(): Promise<MappingVersion | undefined> {
    const [row] = await this.rows(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE active`);
    return row ? toMapping(row) : undefined;
  }

  async listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>> {
    const n = pageLimit(limit) + 1;
    const rows = cursor === null
      ? await this.rows(`SELECT ${MAPPING_COLUMNS} FROM mappings ORDER BY version DESC LIMIT $1`, [n])
      : await this.rows(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version < $1 ORDER BY version DESC LIMIT $2`,
        [decodeCursor(cursor, ['number'] as const)[0], n]);
    return toPage(rows, limit, toMapping, (r) => [r.version as number]);
  }

  /**
   * The table lock serialises putMapping/activateMapping across instances (one
   * active version, versions without gaps) and still lets readers through.
   */
  async putMapping(json: string, now: number): Promise<MappingVersion> {
    return inTransaction(this.pool(), async (c) => {
      await c.query('LOCK TABLE mappings IN SHARE ROW EXCLUSIVE MODE');
      await c.query('UPDATE mappings SET active = FALSE WHERE active');
      const { rows } = await c.query<Row>(
        `INSERT INTO mappings (version, json, created_at, active)
         SELECT COALESCE(MAX(version), 0) + 1, $1::text, $2::bigint, TRUE FROM mappings RETURNING ${MAPPING_COLUMNS}`,
        [json, now],
      );
      return toMapping(rows[0] as Row);
    });
  }

  async activateMapping(version: number): Promise<MappingVersion | undefined> {
    if (!Number.isSafeInteger(version)) return undefined;
    return inTransaction(this.pool(), async (c) => {
      await c.query('LOCK TABLE mappings IN SHARE ROW EXCLUSIVE MODE');
      const exists = await c.query('SELECT 1 FROM mappings WHERE version = $1', [version]);
      if (exists.rowCount === 0) return undefined;
      await c.query('UPDATE mappings SET active = (version = $1) WHERE active OR version = $1', [version]);
      const { rows } = await c.query<Row>(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version = $1`, [version]);
      return toMapping(rows[0] as Row);
    });
  }

  async listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>> {
    const p = params();
    let where = telegramFilter(filter, p.add);
    if (cursor !== null) {
      const [createdAt, ingestId] = decodeCursor(cursor, ['number', 'string'] as const);
      where += ` AND (t.created_at, t.ingest_id) < (${p.add(createdAt)}, ${p.add(ingestId)})`;
    }
    const rows = await this.rows(
      `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id
       WHERE ${where} ORDER BY t.created_at DESC, t.ingest_id DESC LIMIT ${p.add(pageLimit(limit) + 1)}`,
      p.values,
    );
    return toPage(rows, limit, toTelegramRecord, (r) => [r.created_at as number, r.ingest_id as string]);
  }

  /** Same semantics as SQLite (old parse result dropped, oldest first, bounded); wakes the other instances. */
  async replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult> {
    const p = params();
    const nowParam = p.add(now);
    const where = `t.status IN ('done', 'error') AND ${telegramFilter(filter, p.add)}`;
    const limitParam = p.add(limit);
    return inTransaction(this.pool(), async (c) => {
      const { rows } = await c.query<Row>(
        `WITH c AS (
           SELECT t.ingest_id FROM telegrams t WHERE ${where} ORDER BY t.created_at, t.ingest_id LIMIT ${limitParam} FOR UPDATE SKIP LOCKED),
         u AS (
           UPDATE telegrams AS t SET status = 'queued', attempts = 0, next_attempt_at = ${nowParam}, replay = TRUE, error_code = NULL,
             last_error = NULL, finished_at = NULL, locked_by = NULL, locked_until = NULL
           FROM c WHERE t.ingest_id = c.ingest_id
           RETURNING t.ingest_id, t.raw_hex,
             (t.key_hex IS NULL AND NOT EXISTS (SELECT 1 FROM meter_keys k WHERE k.meter_id = t.meter_id)) AS keyless),
         d AS (DELETE FROM parse_results WHERE ingest_id IN (SELECT ingest_id FROM u))
         SELECT ingest_id, raw_hex, keyless FROM u`,
        p.values,
      );
      const q = params();
      const rest = await c.query<Row>(`SELECT COUNT(*) AS n FROM telegrams t WHERE t.status IN ('done', 'error') AND ${telegramFilter(filter, q.add)}`, q.values);
      if (rows.length > 0) await c.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, this.notifyToken]);
      return {
        replayed: rows.length,
        remaining: Number(rest.rows[0]?.n ?? 0),
        keyless: rows.filter((r) => r.keyless === true).map((r) => ({ ingestId: r.ingest_id as string, rawHex: r.raw_hex as string })),
      };
    });
  }

  async insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void> {
    const details = record.details === null ? null : JSON.stringify(record.details);
    await this.pool().query('INSERT INTO audit (at, action, target, actor, details) VALUES ($1, $2, $3, $4, $5)',
      [record.at, record.action, record.target, record.actor, details]);
  }

  async listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>> {
    const n = pageLimit(limit) + 1;
    const rows = cursor === null
      ? await this.rows('SELECT id, at, action, target, actor, details FROM audit ORDER BY id DESC LIMIT $1', [n])
      : await this.rows('SELECT id, at, action, target, actor, details FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2',
        [decodeCursor(cursor, ['number'] as const)[0], n]);
    return toPage(rows, limit, toAudit, (r) => [r.id as number]);
  }

  async gatewayStats(since: number, now: number): Promise<GatewayStats[]> {
    const rows = await this.rows(
      `SELECT gateway_id, MAX(created_at) AS last_seen, COUNT(*) AS count, AVG(rssi_dbm) AS mean_rssi,
         COUNT(*) FILTER (WHERE created_at > $2 AND created_at <= $3) AS last_minute
       FROM telegrams WHERE created_at >= $1 GROUP BY gateway_id ORDER BY gateway_id`,
      [since, now - 60_000, now],
    );
    return rows.map((r) => ({
      gatewayId: r.gateway_id as string,
      lastSeen: Number(r.last_seen),
      lastMinute: Number(r.last_minute),
      count: Number(r.count),
      meanRssiDbm: r.mean_rssi === null ? null : Number(r.mean_rssi),
    }));
  }

  async getSetting(name: string): Promise<string | undefined> {
    const [row] = await this.rows('SELECT value FROM settings WHERE name = $1', [name]);
    return row ? (row.value as string) : undefined;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.pool().query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      [name, value]);
  }

  async getParserState(): Promise<ParserState> {
    const [row] = await this.rows('SELECT open_until, paused_until FROM parser_state WHERE id = 1');
    return { openUntil: Number(row?.open_until ?? 0), pausedUntil: Number(row?.paused_until ?? 0) };
  }

  /** GREATEST in the database: two instances raising at once both keep the later time. */
  async raiseParserState(patch: Partial<ParserState>): Promise<void> {
    await this.pool().query(
      'UPDATE parser_state SET open_until = GREATEST(open_until, $1), paused_until = GREATEST(paused_until, $2) WHERE id = 1',
      [patch.openUntil ?? 0, patch.pausedUntil ?? 0],
    );
  }

  async closeCircuit(): Promise<void> {
    await this.pool().query('UPDATE parser_state SET open_until = 0 WHERE id = 1');
  }
}
