import type Database from 'better-sqlite3';
import { type GatewayLiveness, type GatewayTransition, transitionMessages, transitionsOf } from '../../liveness/gateway-state.js';
import { GATEWAY_COLUMNS, GATEWAY_DUE, toGateway } from '../gateway-rows.js';
import type { GatewayRegistry } from '../roles.js';
import type { Row } from '../store-rows.js';
import { OUTBOX_INSERT, writeMessages } from './outbox.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    // "WHERE true": SQLite needs it to tell the upsert's ON CONFLICT from a join's ON.
    fold: db.prepare(`INSERT INTO gateways (${GATEWAY_COLUMNS})
      SELECT gateway_id, 'new', MIN(created_at), MAX(created_at), @now FROM telegrams WHERE created_at >= @since AND true GROUP BY gateway_id
      ON CONFLICT (gateway_id) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)`),
    due: db.prepare(`SELECT ${GATEWAY_COLUMNS} FROM gateways WHERE ${GATEWAY_DUE.replaceAll(':cutoff', '@cutoff')}`),
    set: db.prepare('UPDATE gateways SET status = ?, changed_at = ? WHERE gateway_id = ?'),
    list: db.prepare(`SELECT ${GATEWAY_COLUMNS} FROM gateways ORDER BY gateway_id LIMIT ?`),
    outbox: db.prepare(OUTBOX_INSERT),
  };
}

/** Gateway liveness on SQLite (one process: no lock needed to evaluate). */
export class SqliteGatewayRegistry implements GatewayRegistry {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(private readonly conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async checkGateways(scanSince: number, now: number, silentMs: number): Promise<GatewayTransition[] | null> {
    const s = this.s();
    return this.conn.get().transaction(() => {
      s.fold.run({ since: scanSince, now });
      const transitions = transitionsOf((s.due.all({ cutoff: now - silentMs }) as Row[]).map(toGateway), now, silentMs);
      for (const t of transitions) {
        s.set.run(t.to, now, t.gatewayId);
        writeMessages(s.outbox, transitionMessages(t, now), now);
      }
      return transitions;
    })();
  }

  async listGateways(limit: number): Promise<GatewayLiveness[]> {
    return (this.s().list.all(limit) as Row[]).map(toGateway);
  }
}
