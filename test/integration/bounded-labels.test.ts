import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_KEY, GW_KEY, OMS_EXAMPLE, post, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** Series of the per-gateway ingest counter, as text lines of /metrics. */
async function ingestSeries(t: TestApp): Promise<string[]> {
  const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
  return res.body.split('\n').filter((l) => l.startsWith('oms_bridge_ingest_requests_total{'));
}

describe('rejected requests never grow labels or maps (issue 10)', () => {
  let t: TestApp;
  let broker: TestBroker;

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', INGEST_RATE_LIMIT: '1000000', ADMIN_TOKEN: 'a'.repeat(24) });
  });
  afterAll(async () => {
    await t.stop();
    await broker.stop();
  });

  const attempt = (i: number) => {
    const kind = i % 4;
    const gatewayId = kind === 0 ? `bad/${i}` : kind === 1 ? `x${i}${'y'.repeat(80)}` : `forged-${i}`;
    const key = kind === 2 ? GW_KEY : kind === 3 ? 'not-a-key-at-all' : GLOBAL_KEY;
    return post(t.app, { gateway_id: gatewayId, raw_hex: OMS_EXAMPLE }, { key });
  };

  it('1,000 distinct invalid gateway ids add no series, no gateway view rows, and leave /metrics the same size', async () => {
    expect((await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE }, { key: GW_KEY })).status).toBe(202);
    // One of each rejection first: its (bounded) series exist before the measurement.
    for (let i = 0; i < 4; i++) await attempt(i);
    // The accepted telegram's own series (job, publish) appear when the pipeline thread is done with it.
    for (let i = 0; i < 200; i++) {
      const h = (await t.app.http.inject({ method: 'GET', url: '/healthz' })).json() as { queue: { depth: number; in_flight: number }; outbox: { depth: number } };
      if (h.queue.depth === 0 && h.queue.in_flight === 0 && h.outbox.depth === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1_100)); // depths and pipeline status refresh in the background
    const before = await ingestSeries(t);
    const metricsBefore = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body.length;
    const statuses = new Set<number>();
    for (let i = 4; i < 1_004; i++) statuses.add((await attempt(i)).status);
    expect([...statuses].sort()).toEqual([400, 401, 403]);
    const after = await ingestSeries(t);
    expect(after.map((l) => l.split('}')[0])).toEqual(before.map((l) => l.split('}')[0]));
    for (const line of after) expect(line).toMatch(/gateway="(gw-[0-9a-f]+|unknown)"/);
    const metricsAfter = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body.length;
    // Only counter values and process gauges change; one series per id would add ~100 bytes each.
    expect(Math.abs(metricsAfter - metricsBefore)).toBeLessThan(300);
    const gateways = await t.app.http.inject({ method: 'GET', url: '/v1/admin/gateways', headers: { authorization: `Bearer ${'a'.repeat(24)}` } });
    expect(gateways.statusCode).toBe(200);
    expect((gateways.json() as { items: Array<{ gateway_id: string }> }).items.map((g) => g.gateway_id)).toEqual([t.gatewayId]);
  });

  it('a gateway id longer than 64 characters is refused by the schema', async () => {
    const res = await post(t.app, { gateway_id: 'g'.repeat(65), raw_hex: OMS_EXAMPLE });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
  });
});
