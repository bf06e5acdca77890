import type Database from 'better-sqlite3';
import { READING_COLUMNS, toReading } from '../meter-rows.js';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { TelegramQueries } from '../roles.js';
import type { GatewayStats, MeterReading, Page, Reception, ReplayResult, TelegramFilter, TelegramRecord } from '../store.js';
import { TELEGRAM_RECORD_COLUMNS, toReception, toTelegramRecord, type Row } from '../store-rows.js';
import { telegramFilter } from '../telegram-filter.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  /** listTelegrams/replay statements by SQL text: one per filter combination. */
  const dynamic = new Map<string, Database.Statement>();
  return {
    getTelegram: db.prepare(
      `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id WHERE t.ingest_id = ?`,
    ),
    receptions: db.prepare(
      'SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE ingest_id = ? UNION ALL SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE merged_into = ?',
    ),
    latestReading: db.prepare(`SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE t.meter_id = ? AND t.status = 'done' ORDER BY t.created_at DESC LIMIT 1`),
    readings: db.prepare(`SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE t.meter_id = ? AND t.status = 'done' AND t.created_at >= ? AND t.created_at < ? ORDER BY t.created_at DESC LIMIT ?`),
    replayOne: db.prepare(
      `UPDATE telegrams SET status = 'queued', attempts = 0, next_attempt_at = ?, replay = 1, error_code = NULL,
         last_error = NULL, finished_at = NULL, locked_by = NULL, locked_until = NULL WHERE ingest_id = ?`,
    ),
    dropResult: db.prepare('DELETE FROM parse_results WHERE ingest_id = ?'),
    gatewayStats: db.prepare(
      `SELECT gateway_id, MAX(created_at) AS last_seen, COUNT(*) AS count, AVG(rssi_dbm) AS mean_rssi,
         SUM(CASE WHEN created_at > @minuteAgo AND created_at <= @now THEN 1 ELSE 0 END) AS last_minute
       FROM telegrams WHERE created_at >= @since GROUP BY gateway_id ORDER BY gateway_id`,
    ),
    statement(sql: string): Database.Statement {
      let stmt = dynamic.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        dynamic.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** Placeholders for dynamic SQL: adds a value and returns `?`. */
function params(): { values: unknown[]; add: (value: unknown) => string } {
  const values: unknown[] = [];
  return {
    values,
    add: (value) => {
      values.push(value);
      return '?';
    },
  };
}

export class SqliteTelegramQueries implements TelegramQueries {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(private readonly conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async listReceptions(ingestId: string): Promise<Reception[]> {
    return (this.s().receptions.all(ingestId, ingestId) as Row[]).map(toReception);
  }

  async latestReadings(meterIds: string[]): Promise<MeterReading[]> {
    const s = this.s();
    const out: MeterReading[] = [];
    for (const id of meterIds) {
      const row = s.latestReading.get(id) as Row | undefined;
      if (row) out.push(toReading(row));
    }
    return out;
  }

  async listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]> {
    return (this.s().readings.all(meterId, since ?? 0, until ?? Number.MAX_SAFE_INTEGER, limit) as Row[]).map(toReading);
  }

  async getTelegram(ingestId: string): Promise<TelegramRecord | undefined> {
    const row = this.s().getTelegram.get(ingestId) as Row | undefined;
    return row ? toTelegramRecord(row) : undefined;
  }

  async listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>> {
    const s = this.s();
    const p = params();
    let where = telegramFilter(filter, p.add);
    if (cursor !== null) {
      const [createdAt, ingestId] = decodeCursor(cursor, ['number', 'string'] as const);
      where += ` AND (t.created_at, t.ingest_id) < (${p.add(createdAt)}, ${p.add(ingestId)})`;
    }
    const sql = `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE ${where} ORDER BY t.created_at DESC, t.ingest_id DESC LIMIT ${p.add(pageLimit(limit) + 1)}`;
    const rows = s.statement(sql).all(...p.values) as Row[];
    return toPage(rows, limit, toTelegramRecord, (r) => [r.created_at as number, r.ingest_id as string]);
  }

  /**
   * Also drops the old parse result, so a replayed telegram reads as unfinished
   * (parsed null) until the new result is written.
   */
  async replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult> {
    const s = this.s();
    const p = params();
    const where = `t.status IN ('done', 'error') AND ${telegramFilter(filter, p.add)}`;
    const pick = s.statement(
      `SELECT t.ingest_id, t.raw_hex, (t.key_hex IS NULL AND NOT EXISTS (SELECT 1 FROM meter_keys k WHERE k.meter_id = t.meter_id)) AS keyless
       FROM telegrams t WHERE ${where} ORDER BY t.created_at, t.ingest_id LIMIT ?`,
    );
    const count = s.statement(`SELECT COUNT(*) AS n FROM telegrams t WHERE ${where}`);
    return this.conn.get().transaction(() => {
      const picked = pick.all(...p.values, limit) as Row[];
      const keyless: ReplayResult['keyless'] = [];
      for (const r of picked) {
        s.dropResult.run(r.ingest_id);
        s.replayOne.run(now, r.ingest_id);
        if (r.keyless) keyless.push({ ingestId: r.ingest_id as string, rawHex: r.raw_hex as string });
      }
      const remaining = Number((count.get(...p.values) as Row).n);
      return { replayed: picked.length, remaining, keyless };
    })();
  }

  async gatewayStats(since: number, now: number): Promise<GatewayStats[]> {
    const rows = this.s().gatewayStats.all({ since, now, minuteAgo: now - 60_000 }) as Row[];
    return rows.map((r) => ({
      gatewayId: r.gateway_id as string,
      lastSeen: r.last_seen as number,
      lastMinute: r.last_minute as number,
      count: r.count as number,
      meanRssiDbm: (r.mean_rssi as number | null) ?? null,
    }));
  }
}
