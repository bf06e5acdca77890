import type Database from 'better-sqlite3';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { KeyProblems } from '../roles.js';
import { KEY_MISSING_GATEWAYS_MAX, KEY_PROBLEM_DETAIL_MAX, type KeyProblemKind, type KeyProblemMeter, type KeyProblemReport, type Page } from '../store.js';
import { KEY_PROBLEM_COLUMNS, keyProblemCounts, toKeyProblem, type Row } from '../store-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

const KEY_PROBLEM_SELECT = `SELECT ${KEY_PROBLEM_COLUMNS},
    (SELECT json_group_array(g.gateway_id) FROM key_missing_gateways g WHERE g.meter_id = k.meter_id) AS gateways
  FROM key_missing k`;

function prepare(db: Database.Database) {
  return {
    // The NOT EXISTS guard keeps a meter off the list as key_missing when its key was stored
    // between the failed lookup and this call. All SET expressions read the old row.
    upsertProblem: db.prepare(
      `INSERT INTO key_missing (meter_id, manufacturer, problem, detail, first_seen, last_seen, count)
       SELECT @meterId, @manufacturer, @problem, @detail, @now, @now, 1
       WHERE @problem <> 'key_missing' OR NOT EXISTS (SELECT 1 FROM meter_keys WHERE meter_id = @meterId)
       ON CONFLICT (meter_id) DO UPDATE SET manufacturer = COALESCE(excluded.manufacturer, key_missing.manufacturer),
         first_seen = CASE WHEN key_missing.problem = excluded.problem THEN MIN(key_missing.first_seen, excluded.first_seen) ELSE excluded.first_seen END,
         last_seen = MAX(key_missing.last_seen, excluded.last_seen),
         count = CASE WHEN key_missing.problem = excluded.problem THEN key_missing.count + 1 ELSE 1 END,
         problem = excluded.problem, detail = excluded.detail`,
    ),
    addMissingGateway: db.prepare(
      `INSERT INTO key_missing_gateways (meter_id, gateway_id)
       SELECT @meterId, @gatewayId WHERE EXISTS (SELECT 1 FROM key_missing WHERE meter_id = @meterId)
         AND (SELECT COUNT(*) FROM key_missing_gateways WHERE meter_id = @meterId) < ${KEY_MISSING_GATEWAYS_MAX}
       ON CONFLICT DO NOTHING`,
    ),
    listProblems: db.prepare(`${KEY_PROBLEM_SELECT} ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsAfter: db.prepare(`${KEY_PROBLEM_SELECT} WHERE (k.last_seen, k.meter_id) < (?, ?) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsOf: db.prepare(`${KEY_PROBLEM_SELECT} WHERE k.problem = ? ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsOfAfter: db.prepare(
      `${KEY_PROBLEM_SELECT} WHERE k.problem = ? AND (k.last_seen, k.meter_id) < (?, ?) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`,
    ),
    countProblems: db.prepare('SELECT problem, COUNT(*) AS n FROM key_missing GROUP BY problem'),
    pruneMissingOld: db.prepare('DELETE FROM key_missing WHERE last_seen < ?'),
    pruneMissingOver: db.prepare(
      'DELETE FROM key_missing WHERE meter_id IN (SELECT meter_id FROM key_missing ORDER BY last_seen DESC, meter_id DESC LIMIT -1 OFFSET ?)',
    ),
    pruneMissingGateways: db.prepare('DELETE FROM key_missing_gateways WHERE meter_id NOT IN (SELECT meter_id FROM key_missing)'),
  };
}

export class SqliteKeyProblems implements KeyProblems {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(private readonly conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async recordKeyProblem(r: KeyProblemReport): Promise<void> {
    const s = this.s();
    this.conn.get().transaction(() => {
      s.upsertProblem.run({
        meterId: r.meterId, manufacturer: r.manufacturer, problem: r.problem, detail: r.detail.slice(0, KEY_PROBLEM_DETAIL_MAX), now: r.now,
      });
      s.addMissingGateway.run({ meterId: r.meterId, gatewayId: r.gatewayId });
    })();
  }

  async pruneKeyProblems(before: number, maxEntries: number): Promise<number> {
    const s = this.s();
    return this.conn.get().transaction(() => {
      const n = s.pruneMissingOld.run(before).changes + s.pruneMissingOver.run(maxEntries).changes;
      if (n > 0) s.pruneMissingGateways.run();
      return n;
    })();
  }

  async listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>> {
    const s = this.s();
    const n = pageLimit(limit) + 1;
    let rows: Row[];
    if (cursor === null) rows = (problem === null ? s.listProblems.all(n) : s.listProblemsOf.all(problem, n)) as Row[];
    else {
      const [lastSeen, meterId] = decodeCursor(cursor, ['number', 'string'] as const);
      rows = (problem === null ? s.listProblemsAfter.all(lastSeen, meterId, n) : s.listProblemsOfAfter.all(problem, lastSeen, meterId, n)) as Row[];
    }
    return toPage(rows, limit, toKeyProblem, (r) => [r.last_seen as number, r.meter_id as string]);
  }

  async countKeyProblems(): Promise<Record<KeyProblemKind, number>> {
    return keyProblemCounts(this.s().countProblems.all() as Row[]);
  }
}
