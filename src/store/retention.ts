import type { Logger } from '../observability/logger.js';
import type { Housekeeping, KeyProblems } from './roles.js';

export interface RetentionOptions {
  /** RETENTION_DAYS: finished telegrams older than this are deleted; 0 keeps them. */
  retentionDays: number;
  /** KEY_MISSING_MAX: most meters on the "keys needed" list. */
  keyMissingMax: number;
  /** KEY_MISSING_MAX_AGE_DAYS: list entries unseen this long leave it. */
  keyMissingMaxAgeDays: number;
  /** Time between runs; 60 s by default. */
  intervalMs?: number;
}

const DAY_MS = 86_400_000;
/** Rows per delete statement and statements per run: one run never holds the database for long. */
const BATCH = 5_000;
const BATCHES_PER_RUN = 20;

/**
 * Housekeeping on a timer: expired dedup entries, finished telegrams past
 * RETENTION_DAYS, and the "keys needed" list bounded by count and age. Work per
 * run is bounded; a failed run is logged and the next one tries again.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Housekeeping & Pick<KeyProblems, 'pruneKeyProblems'>,
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Idempotent; waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; runs never overlap. */
  runOnce(now = Date.now()): Promise<void> {
    this.running ??= this.pass(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(now: number): Promise<void> {
    try {
      await this.store.purgeDedup(now);
      const pruned = await this.store.pruneKeyProblems(now - this.opts.keyMissingMaxAgeDays * DAY_MS, this.opts.keyMissingMax);
      if (pruned > 0) this.log.info({ pruned, max: this.opts.keyMissingMax }, 'key problems list pruned');
      if (this.opts.retentionDays <= 0) return;
      let deleted = 0;
      for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
        const n = await this.store.purgeFinished(now - this.opts.retentionDays * DAY_MS, BATCH);
        deleted += n;
        if (n < BATCH) break;
      }
      if (deleted > 0) this.log.info({ deleted, retentionDays: this.opts.retentionDays }, 'old finished telegrams deleted');
    } catch (err) {
      this.log.error({ err }, 'housekeeping failed');
    }
  }
}
