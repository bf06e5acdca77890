import type pg from 'pg';
import { READING_COLUMNS, toReading } from '../meter-rows.js';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { TelegramQueries } from '../roles.js';
import type { GatewayStats, MeterReading, Page, Reception, ReplayResult, TelegramFilter, TelegramRecord } from '../store.js';
import { TELEGRAM_RECORD_COLUMNS, toReception, toTelegramRecord, type Row } from '../store-rows.js';
import { telegramFilter } from '../telegram-filter.js';
import { inTransaction, params, rows } from './pg-query.js';
import { WORK_CHANNEL } from './work-listener.js';

const SQL = {
  receptions: { name: 'oms_receptions', text: `SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE ingest_id = $1
    UNION ALL SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE merged_into = $1` },
  getTelegram: { name: 'oms_get_telegram', text: `SELECT ${TELEGRAM_RECORD_COLUMNS}
    FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id WHERE t.ingest_id = $1` },
} as const;

export class PostgresTelegramQueries implements TelegramQueries {
  constructor(
    private readonly pool: () => pg.Pool,
    /** Payload of our NOTIFY after a replay, so our own listener skips it. */
    private readonly notifyToken: string,
  ) {}

  async listReceptions(ingestId: string): Promise<Reception[]> {
    return (await rows(this.pool(), SQL.receptions, [ingestId])).map(toReception);
  }

  async latestReadings(meterIds: string[]): Promise<MeterReading[]> {
    if (meterIds.length === 0) return [];
    const found = await rows(
      this.pool(),
      `SELECT x.* FROM unnest($1::text[]) AS m(id) CROSS JOIN LATERAL (
         SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
         WHERE t.meter_id = m.id AND t.status = 'done' ORDER BY t.created_at DESC LIMIT 1) AS x`,
      [meterIds],
    );
    return found.map(toReading);
  }

  async listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]> {
    const found = await rows(
      this.pool(),
      `SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
       WHERE t.meter_id = $1 AND t.status = 'done' AND t.created_at >= $2 AND t.created_at < $3 ORDER BY t.created_at DESC LIMIT $4`,
      [meterId, since ?? 0, until ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return found.map(toReading);
  }

  async getTelegram(ingestId: string): Promise<TelegramRecord | undefined> {
    const [row] = await rows(this.pool(), SQL.getTelegram, [ingestId]);
    return row ? toTelegramRecord(row) : undefined;
  }

  async listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>> {
    const p = params();
    let where = telegramFilter(filter, p.add);
    if (cursor !== null) {
      const [createdAt, ingestId] = decodeCursor(cursor, ['number', 'string'] as const);
      where += ` AND (t.created_at, t.ingest_id) < (${p.add(createdAt)}, ${p.add(ingestId)})`;
    }
    const found = await rows(
      this.pool(),
      `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id
       WHERE ${where} ORDER BY t.created_at DESC, t.ingest_id DESC LIMIT ${p.add(pageLimit(limit) + 1)}`,
      p.values,
    );
    return toPage(found, limit, toTelegramRecord, (r) => [r.created_at as number, r.ingest_id as string]);
  }

  /** Same semantics as SQLite (old parse result dropped, oldest first, bounded); wakes the other instances. */
  async replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult> {
    const p = params();
    const nowParam = p.add(now);
    const where = `t.status IN ('done', 'error') AND ${telegramFilter(filter, p.add)}`;
    const limitParam = p.add(limit);
    return inTransaction(this.pool(), async (c) => {
      const { rows: replayed } = await c.query<Row>(
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
      if (replayed.length > 0) await c.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, this.notifyToken]);
      return {
        replayed: replayed.length,
        remaining: Number(rest.rows[0]?.n ?? 0),
        keyless: replayed.filter((r) => r.keyless === true).map((r) => ({ ingestId: r.ingest_id as string, rawHex: r.raw_hex as string })),
      };
    });
  }

  async gatewayStats(since: number, now: number): Promise<GatewayStats[]> {
    const found = await rows(
      this.pool(),
      `SELECT gateway_id, MAX(created_at) AS last_seen, COUNT(*) AS count, AVG(rssi_dbm) AS mean_rssi,
         COUNT(*) FILTER (WHERE created_at > $2 AND created_at <= $3) AS last_minute
       FROM telegrams WHERE created_at >= $1 GROUP BY gateway_id ORDER BY gateway_id`,
      [since, now - 60_000, now],
    );
    return found.map((r) => ({
      gatewayId: r.gateway_id as string,
      lastSeen: Number(r.last_seen),
      lastMinute: Number(r.last_minute),
      count: Number(r.count),
      meanRssiDbm: r.mean_rssi === null ? null : Number(r.mean_rssi),
    }));
  }
}
