import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_KEY, GW_KEY, OMS_EXAMPLE, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro } from '../helpers/fake-lobaro.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

describe('POST /v1/telegrams', () => {
  let broker: TestBroker;
  let t: TestApp;
  const valid = () => ({ gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, rssi_dbm: -82, mode: 'T1', rx_time: '2026-01-08T12:45:11.123Z' });

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({ MQTT_URL: broker.url, QUEUE_MAX: '1000' });
  });
  afterAll(async () => {
    await t.stop();
    await broker.stop();
  });

  it('accepts a valid telegram with 202 and an ingest id', async () => {
    const res = await post(t.app, valid(), { key: GW_KEY });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ accepted: true, ingest_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  const hex11 = '0'.repeat(22);
  it.each([
    ['raw_hex with non-hex digits', { raw_hex: `zz${OMS_EXAMPLE}` }, 'raw_hex'],
    ['raw_hex with 0x prefix', { raw_hex: `0x${OMS_EXAMPLE}` }, 'raw_hex'],
    ['raw_hex with spaces', { raw_hex: `${OMS_EXAMPLE.slice(0, 20)} ${OMS_EXAMPLE.slice(20)}` }, 'raw_hex'],
    ['raw_hex of odd length', { raw_hex: `${OMS_EXAMPLE}0` }, 'raw_hex'],
    ['raw_hex shorter than 11 bytes', { raw_hex: hex11.slice(2) }, 'raw_hex'],
    ['raw_hex longer than 512 bytes', { raw_hex: 'ab'.repeat(513) }, 'raw_hex'],
    ['raw_hex missing', { raw_hex: undefined }, 'raw_hex'],
    ['raw_hex not a string', { raw_hex: 1234 }, 'raw_hex'],
    ['gateway_id missing', { gateway_id: undefined }, 'gateway_id'],
    ['gateway_id with /', { gateway_id: 'gw/1' }, 'gateway_id'],
    ['gateway_id with +', { gateway_id: 'gw+' }, 'gateway_id'],
    ['gateway_id with #', { gateway_id: 'gw#' }, 'gateway_id'],
    ['gateway_id empty', { gateway_id: '' }, 'gateway_id'],
    ['gateway_id too long', { gateway_id: 'g'.repeat(65) }, 'gateway_id'],
    ['rx_time not RFC 3339', { rx_time: '08.01.2026 12:45' }, 'rx_time'],
    ['rx_time without zone', { rx_time: '2026-01-08T12:45:11' }, 'rx_time'],
    ['rx_time impossible date', { rx_time: '2026-13-45T12:45:11Z' }, 'rx_time'],
    ['rx_time on 30 February', { rx_time: '2026-02-30T12:45:11Z' }, 'rx_time'],
    ['rx_time at 24:00', { rx_time: '2026-01-08T24:00:00Z' }, 'rx_time'],
    ['rssi_dbm above 0', { rssi_dbm: 5 }, 'rssi_dbm'],
    ['rssi_dbm below -150', { rssi_dbm: -151 }, 'rssi_dbm'],
    ['rssi_dbm as string', { rssi_dbm: '-80' }, 'rssi_dbm'],
    ['key_hex too short', { key_hex: '0102' }, 'key_hex'],
    ['key_hex not hex', { key_hex: 'zz'.repeat(16) }, 'key_hex'],
    ['mode not a wM-Bus mode', { mode: 'X9' }, 'mode'],
    ['mode with a NUL', { mode: 'T1\u0000' }, 'mode'],
    ['meter_hint.manufacturer not 3 letters', { meter_hint: { manufacturer: 'E1S' } }, 'meter_hint.manufacturer'],
    ['meter_hint.manufacturer with a NUL', { meter_hint: { manufacturer: 'EL\u0000' } }, 'meter_hint.manufacturer'],
    ['meter_hint.meter_id with a control character', { meter_hint: { meter_id: 'm\u0007' } }, 'meter_hint.meter_id'],
    ['gateway_id with a NUL', { gateway_id: 'gw\u0000' }, 'gateway_id'],
  ])('400 for %s', async (_name, patch, field) => {
    const body: Record<string, unknown> = { ...valid(), gateway_id: 'any-gw', ...patch };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const res = await post(t.app, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(typeof res.json.error.message).toBe('string');
    expect(JSON.stringify(res.json.error.details)).toContain(field);
  });

  it.each(['S1', 'S1-m', 'S2', 'T1', 'T2', 'C1', 'C2', 'N', 'F'])('accepts mode %s', async (mode) => {
    expect((await post(t.app, { ...valid(), mode })).status).toBe(202);
  });

  it('accepts the boundary sizes (11 and 512 bytes)', async () => {
    expect((await post(t.app, { ...valid(), raw_hex: hex11 })).status).toBe(202);
    expect((await post(t.app, { ...valid(), raw_hex: 'cd'.repeat(512) })).status).toBe(202);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await post(t.app, '{"gateway_id":');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_json');
  });

  it('401 without or with an unknown key, before reading the body', async () => {
    const none = await t.app.http.inject({ method: 'POST', url: '/v1/telegrams', payload: valid() });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const wrong = await post(t.app, 'not even json', { key: 'nope-nope-nope' });
    expect(wrong.status).toBe(401);
    const basic = await t.app.http.inject({ method: 'POST', url: '/v1/telegrams', payload: valid(), headers: { authorization: `Basic ${GW_KEY}` } });
    expect(basic.statusCode).toBe(401);
  });

  it('403 when a gateway key posts for another gateway; a global key may post for any', async () => {
    const res = await post(t.app, { ...valid(), gateway_id: 'someone-else' }, { key: GW_KEY });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('forbidden');
    expect((await post(t.app, { ...valid(), gateway_id: 'someone-else' }, { key: GLOBAL_KEY })).status).toBe(202);
  });

  it('413 for a body over 64 KiB', async () => {
    const res = await post(t.app, { ...valid(), mode: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('body_too_large');
  });

  it('415 for a body that is not JSON by content type', async () => {
    const res = await post(t.app, 'raw_hex=00', { headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe('unsupported_media_type');
  });

  it('answers a repeat inside the dedup window with the first ingest id', async () => {
    const body = { ...valid(), raw_hex: `${OMS_EXAMPLE}aa` };
    const first = await post(t.app, body);
    const again = await post(t.app, { ...body, raw_hex: body.raw_hex.toUpperCase() });
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ accepted: true, duplicate: true, ingest_id: first.json.ingest_id });
    const otherGateway = await post(t.app, { ...body, gateway_id: 'other-gw' });
    expect(otherGateway.json.duplicate).toBeUndefined();
  });

  it('keeps gateways apart whose id and telegram only concatenate to the same text', async () => {
    // "<gw>" + "ab<hex>" and "<gw>ab" + "<hex>" were one dedup hash: the second telegram was dropped as a repeat.
    const first = await post(t.app, { ...valid(), raw_hex: `ab${OMS_EXAMPLE}bb` });
    const second = await post(t.app, { ...valid(), gateway_id: `${t.gatewayId}ab`, raw_hex: `${OMS_EXAMPLE}bb` });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.json.duplicate).toBeUndefined();
    expect(second.json.ingest_id).not.toBe(first.json.ingest_id);
  });

  it('404 with the error shape for unknown routes', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('/healthz and /readyz report database, MQTT, queue and outbox', async () => {
    const h = await t.app.http.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ database: { ok: true }, queue: { max: 1000 }, outbox: { max: 100000 }, parser: 'local' });
    expect(typeof h.json().mqtt.connected).toBe('boolean');
    const r = await t.app.http.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
  });
});

describe('backpressure', () => {
  it('answers 503 with Retry-After when QUEUE_MAX is reached, and keeps what it accepted', async () => {
    const broker = await startTestBroker();
    // A parser that never answers keeps every job unfinished.
    const lobaro = new FakeLobaro();
    lobaro.behaviour = () => ({ status: 200, hang: true });
    const t = await startTestApp({ MQTT_URL: broker.url, QUEUE_MAX: '3', PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: await lobaro.start(), LOBARO_TIMEOUT_S: '60' });
    try {
      const statuses: number[] = [];
      const plain = '1844ae4c4455223368077a55000000041389e20100023b0000';
      for (let i = 0; i < 5; i++) statuses.push((await post(t.app, { gateway_id: t.gatewayId, raw_hex: `${plain}${i.toString(16).padStart(2, '0')}` })).status);
      expect(statuses).toEqual([202, 202, 202, 503, 503]);
      const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: `${plain}ff` });
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json.error.code).toBe('backpressure');
      const r = await t.app.http.inject({ method: 'GET', url: '/readyz' });
      expect(r.json()).toMatchObject({ status: 'not_ready', queue: { depth: 3, max: 3 } });
      expect(r.statusCode).toBe(503);
    } finally {
      await lobaro.stop();
      await t.stop();
      await broker.stop();
    }
  });
});
