import type pg from 'pg';
import { backEvent, staleEvent } from '../../liveness/meter-events.js';
import { applySeen, type MeterLiveness, type MeterSeen, type MeterStatus, type SeenResult, type StalePolicy } from '../../liveness/meter-state.js';
import { EMPTY_COUNTS, METER_COLUMNS, meterValues, toMatch, toMeter } from '../meter-rows.js';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { MeterRegistry } from '../roles.js';
import type { MeterMatch, Page } from '../store.js';
import type { Row } from '../store-rows.js';
import { insertMessages } from './outbox.js';

/** Advisory lock key of the staleness evaluation ("oms-stal" as bytes), one holder across instances. */
export const STALE_LOCK = 0x6f6d_732d_7374_616cn;

/** Namespace (first key) of the per-meter advisory lock taken when a meter is new ("omsm"). */
const NEW_METER_LOCK = 0x6f6d_736d;

const SELECT_FOR_UPDATE = `SELECT ${METER_COLUMNS} FROM meters WHERE meter_id = $1 FOR UPDATE`;

const UPSERT = `INSERT INTO meters (${METER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, status = excluded.status, first_seen = excluded.first_seen,
    last_seen = excluded.last_seen, interval_ms = excluded.interval_ms, gaps = excluded.gaps, gateways = excluded.gateways,
    last_error_code = excluded.last_error_code, last_error = excluded.last_error, stale_at = excluded.stale_at`;

/** Meter liveness on PostgreSQL, shared by every instance on the database. */
export class PostgresMeterRegistry implements MeterRegistry {
  constructor(private readonly pool: () => pg.Pool) {}

  async recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<SeenResult> {
    return tx(this.pool(), async (c) => {
      // The row lock serialises two instances handling the same meter. A new meter has no row to lock: both would
      // build it from nothing and the second upsert would drop the first reception, so the first one is serialised
      // by an advisory lock on the id and the row is read again behind it.
      let { rows } = await c.query<Row>(SELECT_FOR_UPDATE, [seen.meterId]);
      if (rows.length === 0) {
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [NEW_METER_LOCK, seen.meterId]);
        ({ rows } = await c.query<Row>(SELECT_FOR_UPDATE, [seen.meterId]));
      }
      const { next, ...seenResult } = applySeen(rows[0] ? toMeter(rows[0]) : undefined, seen, policy);
      await c.query(UPSERT, meterValues(next));
      // With the status change (see the SQLite store).
      if (seenResult.back) await insertMessages(c, [backEvent(seen)], Date.now());
      return seenResult;
    });
  }

  async markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]> {
    return tx(this.pool(), async (c) => {
      const { rows: lock } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [STALE_LOCK.toString()]);
      if (lock[0]?.ok !== true) return [];
      const { rows } = await c.query<Row>(
        `UPDATE meters SET status = 'stale' WHERE meter_id IN
           (SELECT meter_id FROM meters WHERE status <> 'stale' AND stale_at <= $1 ORDER BY stale_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING ${METER_COLUMNS}`,
        [now, limit],
      );
      // With the status in one transaction: a stale meter is never selected again (see the SQLite store).
      const stale = rows.map(toMeter);
      await insertMessages(c, stale.map((m) => staleEvent(m, now)), now);
      return stale;
    });
  }

  async listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>> {
    const after = cursor === null ? '' : decodeCursor(cursor, ['string'] as const)[0];
    const n = pageLimit(limit) + 1;
    // starts_with, not LIKE: meter ids may contain '_', a LIKE wildcard.
    const { rows } = await this.pool().query<Row>(
      `SELECT ${METER_COLUMNS} FROM meters WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR starts_with(meter_id, $2))
         AND meter_id > $3 ORDER BY meter_id LIMIT $4`,
      [status, idPrefix || null, after, n],
    );
    return toPage(rows, limit, toMeter, (r) => [r.meter_id as string]);
  }

  async matchMeters(meterIds: string[]): Promise<MeterMatch[]> {
    if (meterIds.length === 0) return [];
    const { rows } = await this.pool().query<Row>(
      `SELECT j.id, m.status, k.problem, mk.meter_id IS NOT NULL AS has_key
       FROM unnest($1::text[]) WITH ORDINALITY AS j(id, n) LEFT JOIN meters m ON m.meter_id = j.id
       LEFT JOIN key_missing k ON k.meter_id = j.id LEFT JOIN meter_keys mk ON mk.meter_id = j.id ORDER BY j.n`,
      [meterIds],
    );
    return rows.map(toMatch);
  }


  async countMetersByStatus(): Promise<Record<MeterStatus, number>> {
    const counts = { ...EMPTY_COUNTS };
    const { rows } = await this.pool().query<Row>('SELECT status, COUNT(*) AS n FROM meters GROUP BY status');
    for (const r of rows) counts[r.status as MeterStatus] = Number(r.n);
    return counts;
  }

  async getMeter(meterId: string): Promise<MeterLiveness | undefined> {
    const { rows } = await this.pool().query<Row>(`SELECT ${METER_COLUMNS} FROM meters WHERE meter_id = $1`, [meterId]);
    return rows[0] ? toMeter(rows[0]) : undefined;
  }

  async deleteMeter(meterId: string): Promise<boolean> {
    const res = await this.pool().query('DELETE FROM meters WHERE meter_id = $1', [meterId]);
    return (res.rowCount ?? 0) > 0;
  }
}

/** One transaction on one pooled connection. */
async function tx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
