import type Database from 'better-sqlite3';
import { backEvent, staleEvent } from '../../liveness/meter-events.js';
import { applySeen, type MeterLiveness, type MeterSeen, type MeterStatus, type SeenResult, type StalePolicy } from '../../liveness/meter-state.js';
import { EMPTY_COUNTS, METER_COLUMNS, meterValues, toMatch, toMeter } from '../meter-rows.js';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { MeterRegistry } from '../roles.js';
import type { MeterMatch, Page } from '../store.js';
import type { Row } from '../store-rows.js';
import type { GroupCommit } from './group-commit.js';
import { OUTBOX_INSERT, writeMessages } from './outbox.js';
import type { SqliteConnection } from './sqlite-connection.js';

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
    // One statement for any number of ids: a JSON array expanded by json_each, order kept by its key.
    match: db.prepare(`SELECT j.value AS id, m.status, k.problem, mk.meter_id IS NOT NULL AS has_key
      FROM json_each(?) j LEFT JOIN meters m ON m.meter_id = j.value LEFT JOIN key_missing k ON k.meter_id = j.value
      LEFT JOIN meter_keys mk ON mk.meter_id = j.value ORDER BY j.key`),
    counts: db.prepare('SELECT status, COUNT(*) AS n FROM meters GROUP BY status'),
    outbox: db.prepare(OUTBOX_INSERT),
    delete: db.prepare('DELETE FROM meters WHERE meter_id = ?'),
  };
}

/** Meter liveness on SQLite (one process: no lock needed to evaluate staleness). */
export class SqliteMeterRegistry implements MeterRegistry {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(
    private readonly conn: SqliteConnection,
    /** recordMeterSeen runs once per telegram: it shares the group commit. */
    private readonly group: GroupCommit,
  ) {
    this.s = conn.statements(prepare);
  }

  async recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<SeenResult> {
    const s = this.s();
    // The group commit runs each write in its own savepoint: read, upsert and the meter_back event are one unit.
    return this.group.submit(() => {
      const row = s.get.get(seen.meterId) as Row | undefined;
      const { next, ...seenResult } = applySeen(row ? toMeter(row) : undefined, seen, policy);
      s.upsert.run(...meterValues(next));
      // With the status change: if the telegram's own outcome failed to commit, its retry finds the meter live and says nothing.
      if (seenResult.back) writeMessages(s.outbox, [backEvent(seen)], Date.now());
      return seenResult;
    });
  }

  async markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]> {
    const s = this.s();
    // The status and its meter_stale events commit together: a stale meter is never selected again,
    // so an event written afterwards and lost (crash, full disk) would never go out.
    return this.conn.get().transaction(() => {
      const stale = (s.markStale.all(now, limit) as Row[]).map(toMeter);
      writeMessages(s.outbox, stale.map((m) => staleEvent(m, now)), now);
      return stale;
    })();
  }

  async listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>> {
    const s = this.s();
    const after = cursor === null ? '' : decodeCursor(cursor, ['string'] as const)[0];
    const n = pageLimit(limit) + 1;
    const rows = (idPrefix
      ? (status === null ? s.listPrefix.all(idPrefix, idPrefix, after, n) : s.listStatusPrefix.all(status, idPrefix, idPrefix, after, n))
      : (status === null ? s.list.all(after, n) : s.listStatus.all(status, after, n))) as Row[];
    return toPage(rows, limit, toMeter, (r) => [r.meter_id as string]);
  }

  async matchMeters(meterIds: string[]): Promise<MeterMatch[]> {
    const s = this.s();
    if (meterIds.length === 0) return [];
    return (s.match.all(JSON.stringify(meterIds)) as Row[]).map(toMatch);
  }

  async countMetersByStatus(): Promise<Record<MeterStatus, number>> {
    const counts = { ...EMPTY_COUNTS };
    for (const r of this.s().counts.all() as Row[]) counts[r.status as MeterStatus] = Number(r.n);
    return counts;
  }

  async getMeter(meterId: string): Promise<MeterLiveness | undefined> {
    const row = this.s().get.get(meterId) as Row | undefined;
    return row ? toMeter(row) : undefined;
  }

  async deleteMeter(meterId: string): Promise<boolean> {
    return this.s().delete.run(meterId).changes > 0;
  }
}
