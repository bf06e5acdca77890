import type Database from 'better-sqlite3';
import { BridgeError } from '../../lib/errors.js';

/** State outside the database that writes change (the dedup index): rolled back with them. */
export interface Journal {
  mark(): number;
  rollbackTo(mark: number): void;
  commit(): void;
}

interface Op {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes submitted during one event-loop turn share one
 * transaction, each inside its own savepoint so one failing write never undoes
 * the others. A commit (WAL append of every page touched) costs far more than
 * the statements in it, so under load this turns N commits into one; callers
 * still get their promise only after the commit.
 *
 * Two lanes: `urgent` writes (telegram intake, a gateway waits for its 202)
 * commit in their own transaction ahead of pipeline writes (job results,
 * outbox), so an ingest insert never waits for a batch of job results. When
 * both lanes have work they take turns, so neither starves.
 */
export class GroupCommit {
  private pending: Op[] = [];
  private urgent: Op[] = [];
  private scheduled = false;
  private lastUrgent = false;
  /** better-sqlite3 builds four wrapper functions per db.transaction() call: made once per connection, not per write. */
  private wrappers: { db: Database.Database; all: (body: () => void) => void; one: (run: () => unknown) => unknown } | undefined;

  constructor(
    private readonly db: () => Database.Database | undefined,
    /** Most writes per transaction; the rest go in the next turn, so no commit blocks the event loop for long. */
    private readonly maxBatch = 128,
    private readonly journal?: Journal,
  ) {}

  submit<T>(run: () => T, opts?: { urgent: boolean }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (opts?.urgent ? this.urgent : this.pending).push({ run, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Commits everything pending, before the database closes, so nothing submitted is dropped. */
  flushAll(): void {
    while (this.pending.length + this.urgent.length > 0) this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const takeUrgent = this.urgent.length > 0 && (!this.lastUrgent || this.pending.length === 0);
    this.lastUrgent = takeUrgent;
    const batch = (takeUrgent ? this.urgent : this.pending).splice(0, this.maxBatch);
    // The other lane commits in the next turn: the promises settled here (and the replies they send) go first.
    if (this.pending.length + this.urgent.length > 0) this.schedule();
    if (batch.length === 0) return;
    const db = this.db();
    if (!db) {
      for (const op of batch) op.reject(new BridgeError('store_closed', 'store is not started'));
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    const start = this.journal?.mark() ?? 0;
    try {
      const { all, one } = this.transactions(db);
      all(() => {
        for (const op of batch) {
          const mark = this.journal?.mark() ?? 0;
          try {
            outcomes.push({ ok: true, value: one(op.run) });
          } catch (err) {
            this.journal?.rollbackTo(mark);
            // On SQLITE_FULL and I/O errors SQLite rolls the whole transaction back: the batch is gone, not just this write.
            if (!db.inTransaction) throw new BatchLost(err);
            outcomes.push({ ok: false, err: storageError(err) });
          }
        }
      });
      this.journal?.commit();
    } catch (err) {
      this.journal?.rollbackTo(start);
      const cause = storageError(err instanceof BatchLost ? err.cause : err);
      for (const op of batch) op.reject(cause);
      return;
    }
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      if (o.ok) op.resolve(o.value);
      else op.reject(o.err);
    });
  }

  private transactions(db: Database.Database): { all: (body: () => void) => void; one: (run: () => unknown) => unknown } {
    if (this.wrappers?.db !== db) {
      // Outside a transaction BEGIN/COMMIT, inside one SAVEPOINT/RELEASE (rolled back alone on a throw).
      this.wrappers = { db, all: db.transaction((body: () => void) => body()), one: db.transaction((run: () => unknown) => run()) };
    }
    return this.wrappers;
  }
}

class BatchLost extends Error {
  constructor(override readonly cause: unknown) {
    super('the batch transaction was rolled back');
  }
}

/** A full disk is a state of the database, not of the write: every caller gets the same retryable answer. */
export function storageError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL') {
    return new BridgeError('storage_full', 'the database is full (disk space or SQLITE_MAX_SIZE_MB); retry later', { retryable: true, cause: err });
  }
  return err;
}
