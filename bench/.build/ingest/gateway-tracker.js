const MAX_TRACKED = 10_000;
/** Per-gateway view: traffic from the database, rejected requests counted in memory (they never reach the database). */
export class GatewayTracker {
    store;
    rejected = new Map();
    constructor(events, store) {
        this.store = store;
        events.on('ingestResponse', (e) => {
            if (e.status < 400 || e.gatewayId === undefined)
                return;
            if (!this.rejected.has(e.gatewayId) && this.rejected.size >= MAX_TRACKED)
                return;
            this.rejected.set(e.gatewayId, (this.rejected.get(e.gatewayId) ?? 0) + 1);
        });
    }
    async view(now = Date.now()) {
        const stats = await this.store.gatewayStats(now - 3_600_000, now);
        const out = new Map();
        for (const s of stats) {
            out.set(s.gatewayId, {
                gateway_id: s.gatewayId, last_seen: new Date(s.lastSeen).toISOString(), telegrams_per_min: s.lastMinute,
                telegrams_last_hour: s.count, mean_rssi_dbm: s.meanRssiDbm === null ? null : Math.round(s.meanRssiDbm * 10) / 10,
                rejected: this.rejected.get(s.gatewayId) ?? 0,
            });
        }
        for (const [gatewayId, rejected] of this.rejected) {
            if (!out.has(gatewayId))
                out.set(gatewayId, { gateway_id: gatewayId, last_seen: null, telegrams_per_min: 0, telegrams_last_hour: 0, mean_rssi_dbm: null, rejected });
        }
        return [...out.values()].sort((a, b) => a.gateway_id.localeCompare(b.gateway_id));
    }
}
