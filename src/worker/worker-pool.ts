import { Semaphore } from '../lib/semaphore.js';
import { WakeSignal } from '../lib/wake-signal.js';
import type { Logger } from '../observability/logger.js';
import type { JobQueue } from '../store/roles.js';
import type { Job } from '../store/store.js';
import type { JobProcessor } from './job-processor.js';

export interface WorkerPoolOptions {
  /** Parse requests in flight (N_WORKERS); as many more jobs may be recording their outcome meanwhile. */
  concurrency: number;
  instanceId: string;
  /** Lease on claimed jobs, renewed while they run (JOB_LEASE_S). */
  leaseMs: number;
  /** Upper bound of the idle sleep, so jobs of other instances and due retries are seen. */
  idlePollMs: number;
}

/**
 * In-memory dispatcher over the durable queue: claims runnable jobs from the
 * database and keeps `concurrency` parser calls in flight. A slot is held only
 * for the parser call: the claim before it and the commits after it cost a few
 * milliseconds per telegram, during which a slot held from claim to commit left
 * the parser idle. So a quarter of `concurrency` more jobs are claimed ahead and
 * wait for a slot, while answered jobs commit their outcome without one; at most
 * 2 × `concurrency` + that quarter are claimed in all. The database stays the
 * source of truth; this only decides when to look.
 */
export class WorkerPool {
  /** Every claimed job until its outcome is recorded: leases are renewed for these, stop() waits for them. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly slots: Semaphore;
  /** Claimed jobs whose parser has answered and whose outcome is being committed. */
  private recording = 0;
  /**
   * Jobs claimed ahead of a free slot. A few cover the claim's round trip; more would only add to the jobs
   * a crash leaves claimed (each such claim counts towards JOB_MAX_CLAIMS).
   */
  private readonly ahead: number;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: JobQueue,
    private readonly processor: JobProcessor,
    private readonly log: Logger,
    private readonly opts: WorkerPoolOptions,
  ) {
    this.slots = new Semaphore(opts.concurrency);
    this.ahead = Math.ceil(opts.concurrency / 4);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1_000, this.opts.leaseMs / 3));
    this.renewTimer.unref();
  }

  /** New work may be runnable (a telegram was accepted, a job finished). */
  wake(): void {
    this.signal.wake();
  }

  /** Stops claiming, waits up to `drainMs` for jobs in flight; unfinished ones stay leased and are picked up on the next start. */
  async stop(drainMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // Jobs still waiting for a slot go back to the queue now instead of starting parser calls during shutdown.
    this.slots.close();
    this.wake();
    await this.loopDone;
    if (this.renewTimer) clearInterval(this.renewTimer);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), timeout]);
    clearTimeout(timer);
    if (this.inFlight.size > 0) this.log.warn({ unfinished: this.inFlight.size }, 'jobs still in flight at shutdown; they will run again on restart');
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      const n = this.opts.concurrency;
      // Parsing or waiting for a slot: at most n + ahead; with the ones committing: at most 2n + ahead.
      const free = Math.min(n + this.ahead - (this.inFlight.size - this.recording), 2 * n + this.ahead - this.inFlight.size);
      if (free > 0) {
        try {
          const jobs = await this.store.claimJobs(free, Date.now(), this.opts.instanceId, this.opts.leaseMs);
          claimed = jobs.length;
          for (const job of jobs) this.run(job);
        } catch (err) {
          this.log.error({ err }, 'claiming jobs failed');
        }
        if (claimed === free) continue;
      }
      await this.signal.sleep(await this.idleDelay(free > 0 && claimed === 0));
      // Let the other completions and accepts of this turn arrive first: one claim for all of them.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async idleDelay(queueEmpty: boolean): Promise<number> {
    if (!queueEmpty) return this.opts.idlePollMs;
    try {
      const due = await this.store.nextDueAt();
      if (due !== null) return Math.max(5, Math.min(this.opts.idlePollMs, due - Date.now()));
    } catch (err) {
      this.log.error({ err }, 'reading the queue failed');
    }
    return this.opts.idlePollMs;
  }

  private run(job: Job): void {
    let stage: 'waiting' | 'parsing' | 'recording' = 'waiting';
    const gate = {
      enter: async (): Promise<boolean> => {
        if (!(await this.slots.acquire())) return false;
        stage = 'parsing';
        return true;
      },
      leave: (): void => {
        if (stage !== 'parsing') return;
        stage = 'recording';
        this.recording++;
        this.slots.release();
        this.wake();
      },
    };
    const p = this.processor
      .process(job, gate)
      .catch((err: unknown) => this.log.error({ ingestId: job.ingestId, err }, 'job could not be recorded; it runs again after its lease'))
      .finally(() => {
        if (stage === 'parsing') this.slots.release();
        if (stage === 'recording') this.recording--;
        this.inFlight.delete(job.ingestId);
        this.wake();
      });
    this.inFlight.set(job.ingestId, p);
  }


  private async renew(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      await this.store.renewLeases([...this.inFlight.keys()], this.opts.instanceId, Date.now() + this.opts.leaseMs);
    } catch (err) {
      this.log.error({ err }, 'renewing job leases failed');
    }
  }
}
