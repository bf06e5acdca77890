import type pg from 'pg';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { KeyProblems } from '../roles.js';
import { KEY_MISSING_GATEWAYS_MAX, KEY_PROBLEM_DETAIL_MAX, type KeyProblemKind, type KeyProblemMeter, type KeyProblemReport, type Page } from '../store.js';
import { KEY_PROBLEM_COLUMNS, keyProblemCounts, toKeyProblem, type Row } from '../store-rows.js';
import { inTransaction, rows } from './pg-query.js';

const KEY_PROBLEM_SELECT = `SELECT ${KEY_PROBLEM_COLUMNS},
  ARRAY(SELECT g.gateway_id FROM key_missing_gateways g WHERE g.meter_id = k.meter_id ORDER BY g.gateway_id) AS gateways
  FROM key_missing k`;

export class PostgresKeyProblems implements KeyProblems {
  constructor(private readonly pool: () => pg.Pool) {}

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

  async listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>> {
    const n = pageLimit(limit) + 1;
    // $1 null = every kind; the (problem, last_seen, meter_id) index serves the filtered walk.
    const kind = '($1::text IS NULL OR k.problem = $1)';
    let found: Row[];
    if (cursor === null) found = await rows(this.pool(), `${KEY_PROBLEM_SELECT} WHERE ${kind} ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT $2`, [problem, n]);
    else {
      const [lastSeen, meterId] = decodeCursor(cursor, ['number', 'string'] as const);
      found = await rows(
        this.pool(),
        `${KEY_PROBLEM_SELECT} WHERE ${kind} AND (k.last_seen, k.meter_id) < ($2, $3) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT $4`,
        [problem, lastSeen, meterId, n],
      );
    }
    return toPage(found, limit, toKeyProblem, (r) => [r.last_seen as number, r.meter_id as string]);
  }

  async countKeyProblems(): Promise<Record<KeyProblemKind, number>> {
    return keyProblemCounts(await rows(this.pool(), 'SELECT problem, COUNT(*) AS n FROM key_missing GROUP BY problem'));
  }
}
