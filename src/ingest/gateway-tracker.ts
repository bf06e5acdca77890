import type { EventBus } from '../observability/events.js';
import type { GatewayRegistry, TelegramQueries } from '../store/roles.js';

export interface GatewayView {
  gateway_id: string;
  last_seen: string | null;
  telegrams_per_min: number;
  telegrams_last_hour: number;
  mean_rssi_dbm: number | null;
  rejected: number;
  /** Gateway clock − server clock, s: the largest rx_time − receive time over the last two minutes (buffered uploads only lower it); null without rx_time. */
  clock_drift_s: number | null;
  /** Liveness (GATEWAY_SILENT_S); null until the gateway monitor has seen the gateway. */
  status: 'online' | 'silent' | null;
  /** When the status last changed; null with status null. */
  status_since: string | null;
}

/** Clock samples of one gateway: the maximum of the current and the previous minute. */
interface Drift {
  minute: number;
  max: number;
  previousMax: number | null;
}

const MAX_TRACKED = 10_000;

/** Per-gateway view: traffic from the database, rejected requests counted in memory (they never reach the database). */
export class GatewayTracker {
  private readonly rejected = new Map<string, number>();
  private readonly drift = new Map<string, Drift>();

  constructor(
    events: EventBus,
    private readonly store: Pick<TelegramQueries, 'gatewayStats'> & Pick<GatewayRegistry, 'listGateways'>,
  ) {
    events.on('ingestResponse', (e) => {
      if (e.status < 400 || e.gatewayId === undefined) return;
      if (!this.rejected.has(e.gatewayId) && this.rejected.size >= MAX_TRACKED) return;
      this.rejected.set(e.gatewayId, (this.rejected.get(e.gatewayId) ?? 0) + 1);
    });
    events.on('gatewayClock', (e) => this.clockSample(e.gatewayId, e.driftMs));
  }

  /**
   * A telegram sent late (store-and-forward) has an old rx_time, so one sample underestimates the
   * gateway's clock; the freshest telegram of a minute, the maximum, is the closest estimate.
   */
  clockSample(gatewayId: string, driftMs: number, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    const d = this.drift.get(gatewayId);
    if (!d) {
      if (this.drift.size < MAX_TRACKED) this.drift.set(gatewayId, { minute, max: driftMs, previousMax: null });
      return;
    }
    if (d.minute === minute) d.max = Math.max(d.max, driftMs);
    else {
      d.previousMax = d.minute === minute - 1 ? d.max : null;
      d.minute = minute;
      d.max = driftMs;
    }
  }

  /** Seconds, or null without a sample in the last two minutes. */
  clockDriftS(gatewayId: string, now = Date.now()): number | null {
    const d = this.drift.get(gatewayId);
    const minute = Math.floor(now / 60_000);
    if (!d || d.minute < minute - 1) return null;
    const max = d.minute === minute && d.previousMax !== null ? Math.max(d.max, d.previousMax) : d.max;
    return Math.round(max / 100) / 10;
  }

  /** Gateways with a clock sample in the last two minutes (for the drift gauge). */
  clockDrifts(now = Date.now()): Array<{ gatewayId: string; driftS: number }> {
    const out: Array<{ gatewayId: string; driftS: number }> = [];
    for (const id of this.drift.keys()) {
      const s = this.clockDriftS(id, now);
      if (s !== null) out.push({ gatewayId: id, driftS: s });
    }
    return out;
  }

  /** Rejected requests of this gateway since this instance started. */
  rejectedOf(gatewayId: string): number {
    return this.rejected.get(gatewayId) ?? 0;
  }

  async view(now = Date.now()): Promise<GatewayView[]> {
    const [stats, known] = await Promise.all([this.store.gatewayStats(now - 3_600_000, now), this.store.listGateways(MAX_TRACKED)]);
    const out = new Map<string, GatewayView>();
    const empty = (gatewayId: string): GatewayView => ({
      gateway_id: gatewayId, last_seen: null, telegrams_per_min: 0, telegrams_last_hour: 0, mean_rssi_dbm: null,
      rejected: this.rejectedOf(gatewayId), clock_drift_s: null, status: null, status_since: null,
    });
    for (const s of stats) {
      out.set(s.gatewayId, {
        ...empty(s.gatewayId), last_seen: new Date(s.lastSeen).toISOString(), telegrams_per_min: s.lastMinute,
        telegrams_last_hour: s.count, mean_rssi_dbm: s.meanRssiDbm === null ? null : Math.round(s.meanRssiDbm * 10) / 10,
        clock_drift_s: this.clockDriftS(s.gatewayId, now),
      });
    }
    // Gateways silent for more than the hour the statistics cover are still listed, with their last telegram.
    for (const g of known) {
      if (g.status === 'new') continue;
      const v = out.get(g.gatewayId) ?? empty(g.gatewayId);
      if (v.last_seen === null || Date.parse(v.last_seen) < g.lastSeen) v.last_seen = new Date(g.lastSeen).toISOString();
      out.set(g.gatewayId, { ...v, status: g.status, status_since: new Date(g.changedAt).toISOString() });
    }
    for (const gatewayId of this.rejected.keys()) if (!out.has(gatewayId)) out.set(gatewayId, empty(gatewayId));
    return [...out.values()].sort((a, b) => a.gateway_id.localeCompare(b.gateway_id));
  }
}
