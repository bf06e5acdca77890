import { PeriodicTask } from '../lib/periodic-task.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { MeterRegistry } from '../store/roles.js';

export interface LivenessMonitorOptions {
  /** How often silent meters are looked for, ms. */
  checkMs: number;
  /** Meters marked per statement; a longer list takes several. */
  batch: number;
  /** The clock; tests pass a fake one. */
  now?: () => number;
  /** Called after events were queued, so the outbox relay publishes them now. */
  onQueued?: () => void;
}

/**
 * Finds meters that fell silent and queues one `meter_stale` event each on
 * oms/v1/bridge/events (through the outbox, so a broker outage delays it but never
 * loses it). Runs on every instance; on PostgreSQL the store lets one evaluate
 * at a time (advisory lock), and each meter goes stale once per silence.
 */
export class LivenessMonitor {
  private readonly task = new PeriodicTask(
    () => this.check(),
    () => this.opts.checkMs,
    (err) => this.log.warn({ err }, 'meter liveness check failed; trying again later'),
  );

  constructor(
    private readonly store: Pick<MeterRegistry, 'markStaleMeters'>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: LivenessMonitorOptions,
  ) {}

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One evaluation; returns how many meters went stale. */
  async check(): Promise<number> {
    const now = this.opts.now?.() ?? Date.now();
    let total = 0;
    for (;;) {
      const stale = await this.store.markStaleMeters(now, this.opts.batch);
      if (stale.length === 0) break;
      for (const m of stale) {
        this.events.emit('meterStale', { meterId: m.meterId, lastSeen: m.lastSeen });
        this.log.warn({ meterId: m.meterId, lastSeen: new Date(m.lastSeen).toISOString(), intervalMs: m.intervalMs }, 'meter went silent');
      }
      total += stale.length;
      if (stale.length < this.opts.batch) break;
    }
    if (total > 0) this.opts.onQueued?.();
    return total;
  }
}
