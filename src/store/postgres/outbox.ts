import type pg from 'pg';
import type { Outbox } from '../roles.js';
import type { OutboxMessage, OutboxRow } from '../store.js';
import { toOutboxRow } from '../store-rows.js';
import { rows } from './pg-query.js';

const SQL = {
  claimOutbox: { name: 'oms_claim_outbox', text: `UPDATE outbox SET locked_by = $1, locked_until = $2
    FROM (SELECT id FROM outbox WHERE locked_until < $3 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) c
    WHERE outbox.id = c.id
    RETURNING outbox.id, outbox.ingest_id, outbox.kind, outbox.topic, outbox.payload, outbox.qos, outbox.retain` },
  markPublished: { name: 'oms_mark_published', text: `WITH d AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING ingest_id, kind)
    UPDATE parse_results SET published_at = $2
    WHERE ingest_id IN (SELECT ingest_id FROM d WHERE kind <> 'raw' AND ingest_id IS NOT NULL)` },
  releaseOutbox: { name: 'oms_release_outbox', text: 'UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE id = ANY($1::bigint[])' },
} as const;

/** Outbox rows are claimed with leases and SKIP LOCKED, like jobs: no two relays publish the same row. */
export class PostgresOutbox implements Outbox {
  constructor(private readonly pool: () => pg.Pool) {}

  async claimOutbox(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<OutboxRow[]> {
    const found = await rows(this.pool(), SQL.claimOutbox, [lockedBy, now + leaseMs, now, limit]);
    found.sort((a, b) => (a.id as number) - (b.id as number));
    return found.map(toOutboxRow);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    if (ids.length > 0) await rows(this.pool(), SQL.markPublished, [ids, now]);
  }

  async releaseOutbox(ids: number[]): Promise<void> {
    if (ids.length > 0) await rows(this.pool(), SQL.releaseOutbox, [ids]);
  }

  async enqueueMessages(messages: OutboxMessage[], now: number): Promise<void> {
    await insertMessages(this.pool(), messages, now);
  }
}

/** Outbox rows for `messages`, in their order, on `q` (a pool, or a client inside the caller's transaction). */
export async function insertMessages(q: Pick<pg.Pool, 'query'>, messages: OutboxMessage[], now: number): Promise<void> {
  if (messages.length === 0) return;
  await q.query(
    `INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at)
     SELECT u.i, u.k, u.t, u.p, u.q, u.r, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bool[]) WITH ORDINALITY AS u(i, k, t, p, q, r, n) ORDER BY u.n`,
    [messages.map((m) => m.ingestId), messages.map((m) => m.kind), messages.map((m) => m.topic), messages.map((m) => m.payload),
      messages.map((m) => m.qos), messages.map((m) => m.retain), now],
  );
}
