import type pg from 'pg';
import { type GatewayLiveness, type GatewayTransition, transitionMessages, transitionsOf } from '../../liveness/gateway-state.js';
import { GATEWAY_COLUMNS, GATEWAY_DUE, toGateway } from '../gateway-rows.js';
import type { GatewayRegistry } from '../roles.js';
import type { Row } from '../store-rows.js';
import { insertMessages } from './outbox.js';

/** Advisory lock key of the gateway evaluation ("oms-gwlv" as bytes), one holder across instances. */
export const GATEWAY_LOCK = 0x6f6d_732d_6777_6c76n;

/** Gateway liveness on PostgreSQL, shared by every instance on the database. */
export class PostgresGatewayRegistry implements GatewayRegistry {
  constructor(private readonly pool: () => pg.Pool) {}

  async checkGateways(scanSince: number, now: number, silentMs: number): Promise<GatewayTransition[] | null> {
    const c = await this.pool().connect();
    try {
      await c.query('BEGIN');
      // One evaluator at a time: two instances must never both see online → silent and both publish it.
      const { rows: lock } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [GATEWAY_LOCK.toString()]);
      if (lock[0]?.ok !== true) {
        await c.query('ROLLBACK');
        return null;
      }
      await c.query(
        `INSERT INTO gateways (${GATEWAY_COLUMNS})
         SELECT gateway_id, 'new', MIN(created_at), MAX(created_at), $2 FROM telegrams WHERE created_at >= $1 GROUP BY gateway_id
         ON CONFLICT (gateway_id) DO UPDATE SET last_seen = GREATEST(gateways.last_seen, excluded.last_seen)`,
        [scanSince, now],
      );
      const { rows } = await c.query<Row>(`SELECT ${GATEWAY_COLUMNS} FROM gateways WHERE ${GATEWAY_DUE.replaceAll(':cutoff', '$1')}`, [now - silentMs]);
      const transitions = transitionsOf(rows.map(toGateway), now, silentMs);
      if (transitions.length > 0) {
        await c.query(
          'UPDATE gateways SET status = u.s, changed_at = $3 FROM unnest($1::text[], $2::text[]) AS u(g, s) WHERE gateways.gateway_id = u.g',
          [transitions.map((t) => t.gatewayId), transitions.map((t) => t.to), now],
        );
        await insertMessages(c, transitions.flatMap((t) => transitionMessages(t, now)), now);
      }
      await c.query('COMMIT');
      return transitions;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async listGateways(limit: number): Promise<GatewayLiveness[]> {
    const { rows } = await this.pool().query<Row>(`SELECT ${GATEWAY_COLUMNS} FROM gateways ORDER BY gateway_id LIMIT $1`, [limit]);
    return rows.map(toGateway);
  }
}
