import { describe, expect, it } from 'vitest';
import { GatewayTracker } from '../../src/ingest/gateway-tracker.js';
import { EventBus } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';

const T = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

describe('gateway clock drift', () => {
  const tracker = () => new GatewayTracker(new EventBus(createLogger('silent')), { gatewayStats: async () => [], listGateways: async () => [] });

  it('is the freshest sample (the maximum) of this and the last minute; buffered uploads do not pull it down', () => {
    const g = tracker();
    g.clockSample('gw', 2_000, T);
    g.clockSample('gw', -600_000, T + 1_000); // a telegram uploaded 10 min late
    expect(g.clockDriftS('gw', T + 2_000)).toBe(2);
    g.clockSample('gw', 1_500, T + 61_000);
    expect(g.clockDriftS('gw', T + 62_000)).toBe(2);
    g.clockSample('gw', 1_500, T + 121_000);
    expect(g.clockDriftS('gw', T + 122_000)).toBe(1.5);
    expect(g.clockDriftS('gw', T + 300_000)).toBeNull();
    expect(g.clockDriftS('other', T)).toBeNull();
  });

  it('comes from accepted telegrams with rx_time (gatewayClock events) and shows in the view and the list for the gauge', async () => {
    const events = new EventBus(createLogger('silent'));
    const g = new GatewayTracker(events, { gatewayStats: async () => [{ gatewayId: 'gw', lastSeen: Date.now(), lastMinute: 1, count: 1, meanRssiDbm: null }], listGateways: async () => [] });
    events.emit('gatewayClock', { gatewayId: 'gw', driftMs: -3_000 });
    expect((await g.view())[0]).toMatchObject({ gateway_id: 'gw', clock_drift_s: -3 });
    expect(g.clockDrifts()).toEqual([{ gatewayId: 'gw', driftS: -3 }]);
  });
});
