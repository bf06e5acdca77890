import type Database from 'better-sqlite3';
import { applySeen, type MeterLiveness, type MeterSeen, type MeterStatus, type StalePolicy } from '../../liveness/meter-state.js';
import { EMPTY_COUNTS, METER_COLUMNS, meterValues, READING_COLUMNS, toMatch, toMeter, toReading } from '../meter-rows.js';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { MeterMatch, MeterReading, OutboxMessage, Page } from '../store.js';
import type { Row } from '../store-rows.js';

function prepare(db: Database.Database) {
  return {
    get: db.prepare(`SELECT ${METER_COLUMNS} FROM meters WHERE meter_id = ?`),
    upsert: db.prepare(`INSERT OR REPLACE INTO meters (${METER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    markStale: db.prepare(`UPDATE meters SET status = 'stale' WHERE meter_id IN
      (SELECT meter_id FROM meters WHERE status <> 'stale' AND stale_at <= ? ORDER BY stale_at LIMIT ?) RETURNING ${METER_COLUMNS}`),
    list: db.prepare(`SELECT ${METER_COLUMNS} FROM meters WHERE meter_id > ? ORDER BY meter_id LIMIT ?`),
    listStatus: db.prepare(`SELECT ${METER_COLUMNS} FROM meters WHERE status = ? AND meter_id > ? ORDER BY meter_id LIMIT ?`),
    listPrefix: db.prepare(`SELECT ${METER_COLUMNS} FROM meters WHERE substr(meter_id, 1, length(?)) = ? AND meter_id > ? ORDER BY meter_id LIMIT ?`),
    listStatusPrefix: db.prepare(`SELECT ${METER_COLUMNS} FROM meters
      WHERE status = ? AND substr(meter_id, 1, length(?)) = ? AND meter_id > ? ORDER BY meter_id LIMIT ?`),
    latestReading: db.prepare(`SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE t.meter_id = ? AND t.status = 'done' ORDER BY t.created_at DESC LIMIT 1`),
    readings: db.prepare(`SELECT ${READING_COLUMNS} FROM telegrams t JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE t.meter_id = ? AND t.status = 'done' AND t.created_at >= ? AND t.created_at < ? ORDER BY t.created_at DESC LIMIT ?`),
    // One statement for any number of ids: a JSON array expanded by json_each, order kept by its key.
    match: db.prepare(`SELECT j.value AS id, m.status, k.problem, mk.meter_id IS NOT NULL AS has_key
      FROM json_each(?) j LEFT JOIN meters m ON m.meter_id = j.value LEFT JOIN key_missing k ON k.meter_id = j.value
      LEFT JOIN meter_keys mk ON mk.meter_id = j.value ORDER BY j.key`),
    counts: db.prepare('SELECT status, COUNT(*) AS n FROM meters GROUP BY status'),
    delete: db.prepare('DELETE FROM meters WHERE meter_id = ?'),
    outbox: db.prepare('INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  };
}

/** Meter liveness on SQLite (one process: no lock needed to evaluate staleness). */
export class SqliteMeters {
  private readonly s: ReturnType<typeof prepare>;

  constructor(private readonly db: Database.Database) {
    this.s = prepare(db);
  }

  recordMeterSeen(seen: MeterSeen, policy: StalePolicy): { back: boolean; intervalMs: number | null } {
    return this.db.transaction(() => {
      const row = this.s.get.get(seen.meterId) as Row | undefined;
      const { next, back } = applySeen(row ? toMeter(row) : undefined, seen, policy);
      this.s.upsert.run(...meterValues(next));
      return { back, intervalMs: next.intervalMs };
    })();
  }

  markStaleMeters(now: number, limit: number): MeterLiveness[] {
    return (this.s.markStale.all(now, limit) as Row[]).map(toMeter);
  }

  listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Page<MeterLiveness> {
    const after = cursor === null ? '' : decodeCursor(cursor, ['string'] as const)[0];
    const n = pageLimit(limit) + 1;
    const rows = (idPrefix
      ? (status === null ? this.s.listPrefix.all(idPrefix, idPrefix, after, n) : this.s.listStatusPrefix.all(status, idPrefix, idPrefix, after, n))
      : (status === null ? this.s.list.all(after, n) : this.s.listStatus.all(status, after, n))) as Row[];
    return toPage(rows, limit, toMeter, (r) => [r.meter_id as string]);
  }

  matchMeters(meterIds: string[]): MeterMatch[] {
    if (meterIds.length === 0) return [];
    return (this.s.match.all(JSON.stringify(meterIds)) as Row[]).map(toMatch);
  }

  latestReadings(meterIds: string[]): MeterReading[] {
    const out: MeterReading[] = [];
    for (const id of meterIds) {
      const row = this.s.latestReading.get(id) as Row | undefined;
      if (row) out.push(toReading(row));
    }
    return out;
  }

  listReadings(meterId: string, since: number | null, until: number | null, limit: number): MeterReading[] {
    return (this.s.readings.all(meterId, since ?? 0, until ?? Number.MAX_SAFE_INTEGER, limit) as Row[]).map(toReading);
  }

  countMetersByStatus(): Record<MeterStatus, number> {
    const counts = { ...EMPTY_COUNTS };
    for (const r of this.s.counts.all() as Row[]) counts[r.status as MeterStatus] = Number(r.n);
    return counts;
  }

  getMeter(meterId: string): MeterLiveness | undefined {
    const row = this.s.get.get(meterId) as Row | undefined;
    return row ? toMeter(row) : undefined;
  }

  deleteMeter(meterId: string): boolean {
    return this.s.delete.run(meterId).changes > 0;
  }

  enqueueMessages(messages: OutboxMessage[], now: number): void {
    this.db.transaction(() => {
      for (const m of messages) this.s.outbox.run(m.ingestId, m.kind, m.topic, m.payload, m.qos, m.retain ? 1 : 0, now);
    })();
  }
}
