import { PeriodicTask } from '../lib/periodic-task.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayRegistry } from '../store/roles.js';

export interface GatewayMonitorOptions {
  /** GATEWAY_SILENT_S in ms. */
  silentMs: number;
  /** The clock; tests pass a fake one. */
  now?: () => number;
  /** Called after messages were queued, so the outbox relay publishes them now. */
  onQueued?: () => void;
}

/**
 * Each scan also reads this far behind the previous one: a transaction that stamped
 * created_at just before a scan may commit just after it.
 */
const SCAN_OVERLAP_MS = 5_000;

/**
 * Watches gateways: folds newly accepted telegrams into each gateway's last seen and
 * lets the store move gateways between online and silent, queuing an event on
 * oms/v1/bridge/events and the retained oms/v1/gw/{id}/status in the same transaction
 * (through the outbox, so a broker outage delays them but never loses them). Runs on
 * every instance; on PostgreSQL one evaluates at a time, so each change is published once.
 * Nothing is added to the insert path: the scan reads the telegram table's created_at index.
 */
export class GatewayMonitor {
  private readonly task = new PeriodicTask(
    () => this.check(),
    () => this.checkMs,
    (err) => this.log.warn({ err }, 'gateway liveness check failed; trying again later'),
  );
  /** created_at from which the next scan must read; undefined before the first. */
  private scanFrom: number | undefined;

  constructor(
    private readonly store: Pick<GatewayRegistry, 'checkGateways'>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: GatewayMonitorOptions,
  ) {}

  /** A quarter of the silence threshold, between 250 ms and 30 s: a change is seen within that much of happening. */
  get checkMs(): number {
    return Math.min(30_000, Math.max(250, Math.round(this.opts.silentMs / 4)));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One evaluation; returns how many gateways changed status (0 when another instance is evaluating). */
  async check(): Promise<number> {
    const now = this.opts.now?.() ?? Date.now();
    // After a restart the table already holds what the last run folded; only the silence window can still matter.
    const since = this.scanFrom ?? now - this.opts.silentMs - this.checkMs;
    const transitions = await this.store.checkGateways(since, now, this.opts.silentMs);
    if (transitions === null) return 0;
    this.scanFrom = now - SCAN_OVERLAP_MS;
    for (const t of transitions) {
      this.events.emit('gatewayStatus', { gatewayId: t.gatewayId, status: t.to, lastSeen: t.lastSeen });
      const fields = { gatewayId: t.gatewayId, lastSeen: new Date(t.lastSeen).toISOString() };
      if (t.to === 'silent') this.log.warn(fields, 'gateway went silent');
      else this.log.info(fields, t.from === 'new' ? 'gateway online' : 'gateway is back');
    }
    if (transitions.length > 0) this.opts.onQueued?.();
    return transitions.length;
  }
}
