import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { GLOBAL_KEY, GW_KEY, OMS_EXAMPLE, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro } from '../helpers/fake-lobaro.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

async function postBatch(app: App, body: unknown, key = GLOBAL_KEY) {
  const res = await app.http.inject({
    method: 'POST', url: '/v1/telegrams/batch',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(res.body) as Record<string, any> };
}

const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';
const hexOf = (i: number) => `${PLAIN}${i.toString(16).padStart(4, '0')}`;

describe('POST /v1/telegrams/batch', () => {
  let broker: TestBroker;
  let t: TestApp;

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({ MQTT_URL: broker.url, QUEUE_MAX: '100000', BATCH_MAX_BYTES: '200000' });
  });
  afterAll(async () => {
    await t.stop();
    await broker.stop();
  });

  it('answers one result per item in order: accepted, duplicate, invalid with the single API error object', async () => {
    const bad = { gateway_id: t.gatewayId, raw_hex: `0x${OMS_EXAMPLE}`, rssi_dbm: 5 };
    const res = await postBatch(t.app, {
      items: [
        { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, rssi_dbm: -70, mode: 'T1' },
        bad,
        { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE.toUpperCase() },
        { gateway_id: t.gatewayId, raw_hex: 42 },
      ],
    });
    expect(res.status).toBe(200);
    const [a, b, c, d] = res.json.results;
    expect(a).toEqual({ status: 'accepted', ingest_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(c).toEqual({ status: 'duplicate', ingest_id: a.ingest_id });
    const single = await post(t.app, bad);
    expect(single.status).toBe(400);
    expect(b).toEqual({ status: 'invalid', error: { ...single.json.error, message: expect.any(String) } });
    expect(b.error.details.map((x: { field: string }) => x.field)).toEqual(['raw_hex', 'rssi_dbm']);
    expect(d).toMatchObject({ status: 'invalid', error: { code: 'validation_failed', details: [{ field: 'raw_hex' }] } });
    expect(res.json).toMatchObject({ accepted: 1, duplicate: 1, invalid: 2 });
    expect(await t.app.store.getTelegram(a.ingest_id)).toMatchObject({ gatewayId: t.gatewayId, rssiDbm: -70 });
  });

  it('an item that is not an object (null, a string, an array) is invalid in its slot; the other items are stored', async () => {
    const res = await postBatch(t.app, { items: [null, 'x', [1], { gateway_id: t.gatewayId, raw_hex: hexOf(4242) }] });
    expect(res.status).toBe(200);
    const results = res.json.results as Array<{ status: string; ingest_id?: string; error?: { code: string } }>;
    expect(results.slice(0, 3).map((r) => [r.status, r.error?.code])).toEqual([
      ['invalid', 'validation_failed'], ['invalid', 'validation_failed'], ['invalid', 'validation_failed'],
    ]);
    expect(results[3]).toEqual({ status: 'accepted', ingest_id: expect.any(String) });
    expect(await t.app.store.getTelegram(results[3]!.ingest_id!)).toMatchObject({ gatewayId: t.gatewayId });
  });

  it('a retried upload (the first answer was lost) returns the same ingest ids and stores nothing new', async () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ client_id: `up1-${i}`, gateway_id: t.gatewayId, raw_hex: hexOf(i) }));
    const before = (await t.app.store.depths()).queue;
    const [first, second] = await Promise.all([postBatch(t.app, { items }, GW_KEY), postBatch(t.app, { items }, GW_KEY)]);
    const third = await postBatch(t.app, { items }, GW_KEY);
    expect(first.json.accepted).toBe(200);
    const ids = first.json.results.map((r: { ingest_id: string }) => r.ingest_id);
    expect(new Set(ids).size).toBe(200);
    expect(second.json.results.map((r: { ingest_id: string }) => r.ingest_id)).toEqual(ids);
    expect(third.json.results).toEqual(first.json.results);
    expect((await t.app.store.depths()).queue - before).toBeLessThanOrEqual(200);
    const listed = await t.app.store.listTelegrams({ gatewayId: t.gatewayId }, 1_000, null);
    expect(listed.items.filter((x) => ids.includes(x.ingestId))).toHaveLength(200);
    expect(listed.items.length).toBeLessThan(400);
  });

  it('a gateway key may only post its own gateway per item; a global key any', async () => {
    const res = await postBatch(t.app, { items: [{ gateway_id: 'someone-else', raw_hex: hexOf(900) }, { gateway_id: t.gatewayId, raw_hex: hexOf(901) }] }, GW_KEY);
    expect(res.json.results[0]).toEqual({ status: 'invalid', error: { code: 'forbidden', message: expect.any(String) } });
    expect(res.json.results[1].status).toBe('accepted');
    expect((await postBatch(t.app, { items: [{ gateway_id: 'someone-else', raw_hex: hexOf(902) }] })).json.accepted).toBe(1);
  });

  it('rx_time of accepted items gives the gateway clock drift in /v1/admin/gateways and /metrics', async () => {
    const ahead = new Date(Date.now() + 30_000).toISOString();
    const res = await postBatch(t.app, { items: [{ gateway_id: 'clock-gw', raw_hex: hexOf(950), rx_time: ahead }] });
    expect(res.json.accepted).toBe(1);
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    const m = /oms_bridge_gateway_clock_drift_seconds\{gateway="clock-gw"\} ([\d.]+)/.exec(metrics.body);
    expect(Number(m?.[1])).toBeGreaterThan(25);
    expect(Number(m?.[1])).toBeLessThan(31);
  });

  it('400 for no items or more than 1,000, 413 beyond BATCH_MAX_BYTES, 401 without a key', async () => {
    expect((await postBatch(t.app, { items: [] })).status).toBe(400);
    const many = Array.from({ length: 1_001 }, () => ({}));
    expect((await postBatch(t.app, { items: many })).json.error.code).toBe('validation_failed');
    const big = Array.from({ length: 1_000 }, (_, i) => ({ gateway_id: t.gatewayId, raw_hex: `${hexOf(i)}${'ab'.repeat(100)}` }));
    const res = await postBatch(t.app, { items: big });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('body_too_large');
    expect((await postBatch(t.app, { items: [{}] }, 'nope-nope')).status).toBe(401);
  });
});

describe('batch backpressure', () => {
  it('503 with Retry-After when the queue is full, as the single API', async () => {
    const broker = await startTestBroker();
    const lobaro = new FakeLobaro();
    lobaro.behaviour = () => ({ status: 200, hang: true });
    const t = await startTestApp({ MQTT_URL: broker.url, QUEUE_MAX: '3', PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: await lobaro.start(), LOBARO_TIMEOUT_S: '60' });
    try {
      const items = [0, 1, 2].map((i) => ({ gateway_id: t.gatewayId, raw_hex: hexOf(i) }));
      expect((await postBatch(t.app, { items })).json.accepted).toBe(3);
      const res = await postBatch(t.app, { items: [{ gateway_id: t.gatewayId, raw_hex: hexOf(9) }] });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json.error.code).toBe('backpressure');
    } finally {
      await lobaro.stop();
      await t.stop();
      await broker.stop();
    }
  });
});
