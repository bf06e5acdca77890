import type Database from 'better-sqlite3';
import type { JobQueue } from '../roles.js';
import type { FinishJob, Job, JobLease, RetryJob } from '../store.js';
import { JOB_COLUMNS, toJob, type Row } from '../store-rows.js';
import type { GroupCommit } from './group-commit.js';
import { OUTBOX_INSERT, writeMessages } from './outbox.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    claimJobs: db.prepare(
      `UPDATE telegrams SET status = 'processing', locked_by = ?, locked_until = ?, lease_seq = lease_seq + 1, claims = claims + 1
       WHERE ingest_id IN (
         SELECT ingest_id FROM telegrams WHERE status = 'queued' AND next_attempt_at <= ?
         UNION ALL
         SELECT ingest_id FROM telegrams WHERE status = 'processing' AND locked_until < ?
         LIMIT ?)
       RETURNING ${JOB_COLUMNS}`,
    ),
    renew: db.prepare("UPDATE telegrams SET locked_until = ? WHERE ingest_id = ? AND locked_by = ? AND status = 'processing'"),
    retry: db.prepare(
      `UPDATE telegrams SET status = 'queued', attempts = ?, next_attempt_at = ?, error_code = ?, last_error = ?,
         locked_by = NULL, locked_until = NULL, claims = CASE WHEN ? THEN MAX(claims - 1, 0) ELSE 0 END
       WHERE ingest_id = ? AND status = 'processing' AND locked_by = ? AND lease_seq = ?`,
    ),
    finish: db.prepare(
      `UPDATE telegrams SET status = ?, attempts = ?, error_code = ?, last_error = ?, finished_at = ?, key_hex = NULL,
         locked_by = NULL, locked_until = NULL, replay = 0, claims = 0
       WHERE ingest_id = ? AND status = 'processing' AND locked_by = ? AND lease_seq = ?`,
    ),
    upsertResult: db.prepare(
      `INSERT INTO parse_results (ingest_id, parsed_json, created_at, published_at) VALUES (?, ?, ?, NULL)
       ON CONFLICT (ingest_id) DO UPDATE SET parsed_json = excluded.parsed_json, created_at = excluded.created_at, published_at = NULL`,
    ),
    insertOutbox: db.prepare(OUTBOX_INSERT),
    nextDue: db.prepare("SELECT MIN(next_attempt_at) FROM telegrams WHERE status = 'queued'").pluck(),
  };
}

/**
 * Claims, lease renewals and outcomes go through the group commit: on their own each was a commit
 * (a WAL append of every page it touched) per call, about one per telegram.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(
    conn: SqliteConnection,
    private readonly group: GroupCommit,
  ) {
    this.s = conn.statements(prepare);
  }

  async claimJobs(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<Job[]> {
    const s = this.s();
    const rows = await this.group.submit(() => s.claimJobs.all(lockedBy, now + leaseMs, now, now, limit) as Row[]);
    // RETURNING order is unspecified; oldest first keeps latency fair.
    rows.sort((a, b) => (a.created_at as number) - (b.created_at as number));
    return rows.map(toJob);
  }

  async renewLeases(ingestIds: string[], lockedBy: string, until: number): Promise<void> {
    const s = this.s();
    await this.group.submit(() => {
      for (const id of ingestIds) s.renew.run(until, id, lockedBy);
    });
  }

  async retryJob(lease: JobLease, r: RetryJob): Promise<boolean> {
    const s = this.s();
    return this.group.submit(
      () => s.retry.run(r.attempts, r.nextAttemptAt, r.errorCode, r.lastError, r.unrun ? 1 : 0, lease.ingestId, lease.lockedBy, lease.leaseSeq).changes === 1,
    );
  }

  async finishJob(lease: JobLease, f: FinishJob): Promise<boolean> {
    const s = this.s();
    return this.group.submit(() => {
      if (s.finish.run(f.status, f.attempts, f.errorCode, f.lastError, f.now, lease.ingestId, lease.lockedBy, lease.leaseSeq).changes !== 1) return false;
      s.upsertResult.run(lease.ingestId, f.parsedJson, f.now);
      writeMessages(s.insertOutbox, f.messages, f.now);
      return true;
    });
  }

  async nextDueAt(): Promise<number | null> {
    return (this.s().nextDue.get() as number | null) ?? null;
  }

  /** Single process: the ingest path wakes the local workers directly, so there is never anyone else to hear from. */
  onWorkAvailable(_listener: () => void): () => void {
    return () => {};
  }
}
