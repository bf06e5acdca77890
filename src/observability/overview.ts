import type { MeterStatus } from '../liveness/meter-state.js';
import type { CircuitState } from '../parser/lobaro/circuit-breaker.js';
import type { Depths } from '../store/store.js';
import type { EventBus } from './events.js';

/** Minutes of the per-minute series (the console's "last hour" charts). */
export const SERIES_MINUTES = 60;
/** Errors kept for the overview, newest first. */
export const RECENT_ERRORS = 20;
/** Meter counts are a GROUP BY over all meters: one query per this many ms however often the console polls. */
const METER_COUNTS_TTL_MS = 5_000;

export interface RecentError {
  code: string;
  message: string | null;
  meterId: string | null;
  ingestId: string;
  /** Epoch ms. */
  at: number;
}

export interface MinuteCounts {
  /** Start of the minute, epoch ms. */
  at: number;
  accepted: number;
  done: number;
  error: number;
}

export interface Overview {
  at: number;
  /** Telegrams accepted by this instance in the last 60 s. */
  acceptedLastMinute: number;
  /** Oldest first, SERIES_MINUTES entries, the last one is the current (partial) minute. */
  perMinute: MinuteCounts[];
  depths: Depths;
  parser: string;
  circuit: CircuitState | null;
  mqttConnected: boolean;
  pipelineRunning: boolean;
  meters: Record<MeterStatus, number>;
  recentErrors: RecentError[];
}

export interface OverviewDeps {
  events: EventBus;
  /** The ingest side's depths (refreshed in the background, never counted per call). */
  depths(): Depths;
  pipeline(): { circuit: CircuitState | null; mqttConnected: boolean; running: boolean };
  meterCounts(): Promise<Record<MeterStatus, number>>;
  parser: string;
  now?: () => number;
}

type Counter = 'accepted' | 'done' | 'error';

/**
 * The console's overview, from ring buffers fed by events: no row is counted per request.
 * The pipeline thread forwards jobFinished to this thread, so done/error counts and the
 * recent errors cover this instance's pipeline; other instances on one PostgreSQL database
 * keep their own (meter counts and depths are database-wide).
 */
export class OverviewTracker {
  /** Per-second accepted counts for the sliding last minute, indexed by second % 60. */
  private readonly seconds = new Array<{ second: number; n: number }>(60);
  /** Per-minute counts, indexed by minute % SERIES_MINUTES. */
  private readonly minutes = new Array<MinuteCounts | undefined>(SERIES_MINUTES);
  private readonly errors: RecentError[] = [];
  private counts: { at: number; value: Promise<Record<MeterStatus, number>> } | undefined;
  private readonly off: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly deps: OverviewDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.off.length > 0) return;
    const { events } = this.deps;
    this.off.push(
      events.on('accepted', () => this.count('accepted', 1)),
      events.on('batchItems', (e) => {
        if (e.accepted > 0) this.count('accepted', e.accepted);
      }),
      events.on('jobFinished', (e) => {
        this.count(e.status, 1);
        if (e.status === 'error') this.error({ code: e.code ?? 'unknown', message: e.message ?? null, meterId: e.meterId ?? null, ingestId: e.ingestId, at: this.now() });
      }),
    );
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
  }

  async snapshot(): Promise<Overview> {
    const now = this.now();
    const status = this.deps.pipeline();
    return {
      at: now,
      acceptedLastMinute: this.lastMinute(now),
      perMinute: this.series(now),
      depths: this.deps.depths(),
      parser: this.deps.parser,
      circuit: status.circuit,
      mqttConnected: status.mqttConnected,
      pipelineRunning: status.running,
      meters: await this.meterCounts(now),
      recentErrors: [...this.errors],
    };
  }

  private count(kind: Counter, n: number): void {
    const now = this.now();
    if (kind === 'accepted') {
      const second = Math.floor(now / 1_000);
      const slot = this.seconds[second % 60];
      if (slot?.second === second) slot.n += n;
      else this.seconds[second % 60] = { second, n };
    }
    const minute = Math.floor(now / 60_000);
    const i = minute % SERIES_MINUTES;
    let m = this.minutes[i];
    if (m?.at !== minute * 60_000) {
      m = { at: minute * 60_000, accepted: 0, done: 0, error: 0 };
      this.minutes[i] = m;
    }
    m[kind] += n;
  }

  private error(e: RecentError): void {
    this.errors.unshift(e);
    if (this.errors.length > RECENT_ERRORS) this.errors.length = RECENT_ERRORS;
  }

  private lastMinute(now: number): number {
    const second = Math.floor(now / 1_000);
    let sum = 0;
    for (const s of this.seconds) if (s && second - s.second < 60) sum += s.n;
    return sum;
  }

  private series(now: number): MinuteCounts[] {
    const current = Math.floor(now / 60_000);
    const out: MinuteCounts[] = [];
    for (let minute = current - SERIES_MINUTES + 1; minute <= current; minute++) {
      const m = this.minutes[minute % SERIES_MINUTES];
      out.push(m?.at === minute * 60_000 ? { ...m } : { at: minute * 60_000, accepted: 0, done: 0, error: 0 });
    }
    return out;
  }

  private meterCounts(now: number): Promise<Record<MeterStatus, number>> {
    if (!this.counts || now - this.counts.at >= METER_COUNTS_TTL_MS) {
      const value = this.deps.meterCounts();
      this.counts = { at: now, value };
      // A failed count is not cached: the next call asks again.
      value.catch(() => {
        if (this.counts?.value === value) this.counts = undefined;
      });
    }
    return this.counts.value;
  }
}
