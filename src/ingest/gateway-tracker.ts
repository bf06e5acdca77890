import type { EventBus } from '../observability/events.js';
import type { TelegramStore } from '../store/store.js';

export interface GatewayView {
  gateway_id: string;
  last_seen: string | null;
  telegrams_per_min: number;
  telegrams_last_hour: number;
  mean_rssi_dbm: number | null;
  rejected: number;
}

const MAX_TRACKED = 10_000;

/** Per-gateway view: traffic from the database, rejected requests counted in memory (they never reach the database). */
export class GatewayTracker {
  private readonly rejected = new Map<string, number>();

  constructor(
    events: EventBus,
    private readonly store: Pick<TelegramStore, 'gatewayStats'>,
  ) {
    events.on('ingestResponse', (e) => {
      if (e.status < 400 || e.gatewayId === undefined) return;
      if (!this.rejected.has(e.gatewayId) && this.rejected.size >= MAX_TRACKED) return;
      this.rejected.set(e.gatewayId, (this.rejected.get(e.gatewayId) ?? 0) + 1);
    });
  }

  async view(now = Date.now()): Promise<GatewayView[]> {
    const stats = await this.store.gatewayStats(now - 3_600_000, now);
    const out = new Map<string, GatewayView>();
    for (const s of stats) {
      out.set(s.gatewayId, {
        gateway_id: s.gatewayId, last_seen: new Date(s.lastSeen).toISOString(), telegrams_per_min: s.lastMinute,
        telegrams_last_hour: s.count, mean_rssi_dbm: s.meanRssiDbm === null ? null : Math.round(s.meanRssiDbm * 10) / 10,
        rejected: this.rejected.get(s.gatewayId) ?? 0,
      });
    }
    for (const [gatewayId, rejected] of this.rejected) {
      if (!out.has(gatewayId)) out.set(gatewayId, { gateway_id: gatewayId, last_seen: null, telegrams_per_min: 0, telegrams_last_hour: 0, mean_rssi_dbm: null, rejected });
    }
    return [...out.values()].sort((a, b) => a.gateway_id.localeCompare(b.gateway_id));
  }
}
