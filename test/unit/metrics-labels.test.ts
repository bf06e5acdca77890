import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/observability/events.js';
import { createMetrics, GATEWAY_SERIES_MAX } from '../../src/observability/metrics.js';

describe('per-gateway metric labels', () => {
  it('ingest_requests_total keeps at most GATEWAY_SERIES_MAX gateway ids (a global key can name any number of them)', async () => {
    const events = new EventBus(pino({ enabled: false }));
    const registry = createMetrics(events, {
      depths: async () => ({ queue: 0, outbox: 0, oldestOutboxAt: null }),
      mqttConnected: () => true,
      circuitState: () => null,
      lobaroRateLimit: () => null,
      keyProblemMeters: async () => ({ key_missing: 0, wrong_key: 0, truncated: 0, unsupported_mode: 0 }),
      meterCounts: async () => ({ ok: 0, stale: 0, key_problem: 0 }),
    });
    for (let i = 0; i < GATEWAY_SERIES_MAX + 50; i++) events.emit('ingestResponse', { gatewayId: `gw-${i}`, status: 202, durationMs: 1 });
    events.emit('ingestResponse', { gatewayId: undefined, status: 401, durationMs: 1 });
    const values = (await registry.getSingleMetric('oms_bridge_ingest_requests_total')!.get()).values;
    const gateways = new Set(values.map((v) => v.labels.gateway));
    expect(gateways.size).toBe(GATEWAY_SERIES_MAX + 2); // the first 1,000, _other, unknown
    expect(values.find((v) => v.labels.gateway === '_other')?.value).toBe(50);
  });
});
