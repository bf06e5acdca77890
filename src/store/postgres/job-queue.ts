import type pg from 'pg';
import type { JobQueue } from '../roles.js';
import type { FinishJob, Job, JobLease, RetryJob } from '../store.js';
import { JOB_COLUMNS, toJob } from '../store-rows.js';
import { rows } from './pg-query.js';
import { WORK_CHANNEL, type WorkListener } from './work-listener.js';

const SQL = {
  // graphile-worker/pg-boss pattern: pick with SKIP LOCKED, lease in the same statement.
  claimJobs: { name: 'oms_claim_jobs', text: `UPDATE telegrams SET status = 'processing', locked_by = $1, locked_until = $2,
      lease_seq = telegrams.lease_seq + 1, claims = telegrams.claims + 1
    FROM (SELECT ingest_id FROM telegrams
          WHERE (status = 'queued' AND next_attempt_at <= $3) OR (status = 'processing' AND locked_until < $3)
          ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED) c
    WHERE telegrams.ingest_id = c.ingest_id
    RETURNING ${JOB_COLUMNS.split(', ').map((c) => `telegrams.${c}`).join(', ')}` },
  renew: { name: 'oms_renew', text: `UPDATE telegrams SET locked_until = $1
    WHERE ingest_id = ANY($2::text[]) AND locked_by = $3 AND status = 'processing'` },
  retry: { name: 'oms_retry', text: `WITH u AS (
      UPDATE telegrams SET status = 'queued', attempts = $1, next_attempt_at = $2, error_code = $3, last_error = $4,
        locked_by = NULL, locked_until = NULL, claims = CASE WHEN $9::boolean THEN GREATEST(claims - 1, 0) ELSE 0 END
      WHERE ingest_id = $5 AND status = 'processing' AND locked_by = $7 AND lease_seq = $8 RETURNING 1)
    SELECT COUNT(*) AS n FROM (SELECT pg_notify('${WORK_CHANNEL}', $6::text) FROM u) n` },
  finish: { name: 'oms_finish', text: `WITH f AS (
      UPDATE telegrams SET status = $2, attempts = $3, error_code = $4, last_error = $5, finished_at = $6::bigint, key_hex = NULL,
        locked_by = NULL, locked_until = NULL, replay = FALSE, claims = 0
      WHERE ingest_id = $1::text AND status = 'processing' AND locked_by = $14 AND lease_seq = $15 RETURNING 1),
    r AS (INSERT INTO parse_results (ingest_id, parsed_json, created_at, published_at) SELECT $1::text, $7, $6::bigint, NULL FROM f
      ON CONFLICT (ingest_id) DO UPDATE SET parsed_json = excluded.parsed_json, created_at = excluded.created_at, published_at = NULL),
    o AS (INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at)
      SELECT m.ingest_id, m.kind, m.topic, m.payload, m.qos, m.retain, $6::bigint
      FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::bool[])
        WITH ORDINALITY AS m(ingest_id, kind, topic, payload, qos, retain, ord)
      WHERE EXISTS (SELECT 1 FROM f)
      ORDER BY m.ord)
    SELECT COUNT(*) AS n FROM f` },
  nextDue: { name: 'oms_next_due', text: "SELECT MIN(next_attempt_at) AS due FROM telegrams WHERE status = 'queued'" },
} as const;

/**
 * Jobs are claimed with leases (`locked_by`, `locked_until`) and SKIP LOCKED, so no two instances
 * work on the same row and a dead instance's rows are taken over once its lease expires.
 */
export class PostgresJobQueue implements JobQueue {
  constructor(
    private readonly pool: () => pg.Pool,
    /** Payload of our NOTIFYs, so our own listener skips them. */
    private readonly token: string,
    private readonly listener: WorkListener,
  ) {}

  async claimJobs(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<Job[]> {
    const found = await rows(this.pool(), SQL.claimJobs, [lockedBy, now + leaseMs, now, limit]);
    found.sort((a, b) => (a.created_at as number) - (b.created_at as number));
    return found.map(toJob);
  }

  async renewLeases(ingestIds: string[], lockedBy: string, until: number): Promise<void> {
    if (ingestIds.length === 0) return;
    await rows(this.pool(), SQL.renew, [until, ingestIds, lockedBy]);
  }

  async retryJob(lease: JobLease, r: RetryJob): Promise<boolean> {
    const [row] = await rows(this.pool(), SQL.retry, [r.attempts, r.nextAttemptAt, r.errorCode, r.lastError, lease.ingestId, this.token, lease.lockedBy, lease.leaseSeq, r.unrun === true]);
    return Number(row?.n) === 1;
  }

  async finishJob(lease: JobLease, f: FinishJob): Promise<boolean> {
    const m = f.messages;
    const [row] = await rows(this.pool(), SQL.finish, [
      lease.ingestId, f.status, f.attempts, f.errorCode, f.lastError, f.now, f.parsedJson,
      m.map((x) => x.ingestId), m.map((x) => x.kind), m.map((x) => x.topic), m.map((x) => x.payload), m.map((x) => x.qos), m.map((x) => x.retain),
      lease.lockedBy, lease.leaseSeq,
    ]);
    return Number(row?.n) === 1;
  }

  async nextDueAt(): Promise<number | null> {
    const [row] = await rows(this.pool(), SQL.nextDue);
    return (row?.due as number | null | undefined) ?? null;
  }

  /** Listeners run (debounced) when another instance inserted, replayed or retried a job. */
  onWorkAvailable(listener: () => void): () => void {
    return this.listener.add(listener);
  }
}
