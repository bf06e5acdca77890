import type pg from 'pg';
import type { Housekeeping } from '../roles.js';
import { rows } from './pg-query.js';

const SQL = {
  purgeDedup: { name: 'oms_purge_dedup', text: `WITH c AS (DELETE FROM client_ids WHERE expires_at <= $1 RETURNING 1),
    d AS (DELETE FROM dedup WHERE expires_at <= $1 RETURNING 1),
    m AS (DELETE FROM merges WHERE expires_at <= $1 RETURNING 1)
    SELECT (SELECT COUNT(*) FROM c) + (SELECT COUNT(*) FROM d) + (SELECT COUNT(*) FROM m) AS n` },
  purgeFinished: {
    name: 'oms_purge_finished',
    text: `WITH victims AS (
             SELECT ingest_id FROM telegrams WHERE created_at < $1 AND status IN ('done', 'error', 'merged')
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
           results AS (DELETE FROM parse_results WHERE ingest_id IN (SELECT ingest_id FROM victims))
           DELETE FROM telegrams WHERE ingest_id IN (SELECT ingest_id FROM victims)`,
  },
} as const;

export class PostgresHousekeeping implements Housekeeping {
  constructor(private readonly pool: () => pg.Pool) {}

  async purgeDedup(now: number): Promise<number> {
    const [row] = await rows(this.pool(), SQL.purgeDedup, [now]);
    return Number(row?.n ?? 0);
  }

  async purgeFinished(before: number, limit: number): Promise<number> {
    return (await this.pool().query({ ...SQL.purgeFinished, values: [before, limit] })).rowCount ?? 0;
  }
}
