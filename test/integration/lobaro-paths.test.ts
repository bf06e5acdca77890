import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro, okDomainModel } from '../helpers/fake-lobaro.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';
import { validateError, validateReading } from '../helpers/schemas.js';

/** An unencrypted Sensus water telegram (wmbusmeters test data): no key needed. */
const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';

describe('Lobaro status paths, POST → MQTT', () => {
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let t: TestApp;
  let mqtt: Collector;
  let n = 0;

  /** A fresh telegram per test (dedup would merge repeats): the plain one plus a unique trailing byte. */
  const send = async () => {
    n += 1;
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: `${PLAIN}${n.toString(16).padStart(2, '0')}` });
    expect(res.status).toBe(202);
    return res.json.ingest_id as string;
  };
  const outcome = async (ingestId: string, timeoutMs = 10_000) => {
    await mqtt.waitFor((msgs) => msgs.some((m) => m.json.ingest_id === ingestId && !m.topic.includes('/raw/')), timeoutMs);
    return mqtt.messages.find((m) => m.json.ingest_id === ingestId && !m.topic.includes('/raw/'))!;
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    const base = await lobaro.start();
    t = await startTestApp({
      MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'test-token-123', LOBARO_BASE_URL: base,
      LOBARO_TIMEOUT_S: '0.3', LOBARO_AUTH_PAUSE_S: '1', N_WORKERS: '4', PIPELINE_THREAD: 'true',
    });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
  });
  afterAll(async () => {
    await mqtt.close();
    await t.stop();
    await lobaro.stop();
    await broker.stop();
  });

  it('200: publishes raw and reading with the contract request (POST /api/meterData, Bearer, raw, key, mapping body)', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = okDomainModel;
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY });
    const id = res.json.ingest_id as string;
    const reading = await outcome(id);
    expect(reading.topic).toBe(`oms/v1/gw/${t.gatewayId}/meter/12345678/reading`);
    expect(reading.json).toMatchObject({
      schema: 'oms.bridge.v1', ingest_id: id, gateway_id: t.gatewayId, parser: 'lobaro',
      meter: { id: '12345678', manufacturer: 'ELS', device_type: 3, version: 51 },
      lobaro: { metering_domain_model: { type: 'GasMeterReading' } },
      values: [{ name: 'currentValue', value: 28504.27, unit: 'm^3', date: '2026-01-08T12:45:11.000000+01:00' }],
    });
    const raw = mqtt.messages.find((m) => m.topic === `oms/v1/gw/${t.gatewayId}/raw/${id}`);
    expect(raw?.json).toMatchObject({ ingest_id: id, raw_hex: OMS_EXAMPLE });
    const req = lobaro.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/meterData');
    expect(req.headers.authorization).toBe('Bearer test-token-123');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.accept).toBe('application/json');
    expect(req.query.get('key')).toBe(OMS_KEY);
    expect(JSON.parse(req.body)).toEqual({ mappings: [] });
    expect(reading.payload).not.toContain(OMS_KEY);
  });

  it.each([400, 422])('%i: error lobaro_bad_request at once, one call', async (status) => {
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status, body: { error: 'bad telegram' } });
    const id = await send();
    const err = await outcome(id);
    expect(err.topic).toBe(`oms/v1/gw/${t.gatewayId}/errors/${id}`);
    expect(err.json.error).toMatchObject({ code: 'lobaro_bad_request', attempts: 1, http_status: status });
    expect(lobaro.requests).toHaveLength(1);
  });

  it('500: retried LOBARO_MAX_ATTEMPTS times, then lobaro_unavailable', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status: 500, body: {} });
    const id = await send();
    const err = await outcome(id);
    expect(err.json.error).toMatchObject({ code: 'lobaro_unavailable', attempts: 3, http_status: 500 });
    expect(lobaro.requests).toHaveLength(3);
  });

  it('timeout: retried LOBARO_MAX_ATTEMPTS times, then lobaro_timeout', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status: 200, hang: true });
    const id = await send();
    const err = await outcome(id);
    expect(err.json.error).toMatchObject({ code: 'lobaro_timeout', attempts: 3 });
    expect(lobaro.requests).toHaveLength(3);
  });

  it('429 with Retry-After: no call before it has passed, then the reading', async () => {
    lobaro.requests.length = 0;
    const times: number[] = [];
    lobaro.behaviour = (_req, i) => {
      times.push(Date.now());
      return i === 1 ? { status: 429, headers: { 'retry-after': '1' } } : okDomainModel(_req, i);
    };
    const id = await send();
    const reading = await outcome(id);
    expect(reading.topic).toMatch(/\/reading$/);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
  });

  it('429 without Retry-After: backs off without using attempts; more 429s than LOBARO_MAX_ATTEMPTS still end as the reading', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = (req, i) => (i <= 5 ? { status: 429 } : okDomainModel(req, i));
    const id = await send();
    const reading = await outcome(id);
    expect(reading.topic).toMatch(/\/reading$/);
    expect(lobaro.requests).toHaveLength(6);
  });

  it('503 with Retry-After: uses no attempt either; 503 without it still does', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = (req, i) => (i <= 3 ? { status: 503, headers: { 'retry-after': '0' } } : okDomainModel(req, i));
    const reading = await outcome(await send());
    expect(reading.topic).toMatch(/\/reading$/);
    expect(lobaro.requests).toHaveLength(4);
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status: 503 });
    const err = await outcome(await send());
    expect(err.json.error).toMatchObject({ code: 'lobaro_unavailable', attempts: 3, http_status: 503 });
  });

  it.each([401, 403])('%i: circuit opens for LOBARO_AUTH_PAUSE_S, jobs wait without using attempts, one alarm', async (status) => {
    lobaro.requests.length = 0;
    const logsBefore = t.logs.length;
    let rejecting = true;
    lobaro.behaviour = (req, i) => (rejecting ? { status } : okDomainModel(req, i));
    const first = await send();
    await new Promise((r) => setTimeout(r, 200));
    const others = [await send(), await send(), await send()];
    await new Promise((r) => setTimeout(r, 500));
    expect(lobaro.requests).toHaveLength(1); // nobody hammers a rejected token
    rejecting = false;
    for (const id of [first, ...others]) expect((await outcome(id, 5_000)).topic).toMatch(/\/reading$/);
    const rec = await t.app.http.inject({ method: 'GET', url: '/healthz' });
    expect(rec.json().lobaro.circuit).toBe('closed');
    const alarms = t.logs.slice(logsBefore).filter((l) => l.includes('"code":"lobaro_auth"') && l.includes('"level":"error"'));
    expect(alarms).toHaveLength(1);
    for (const id of [first, ...others]) expect((await t.app.store.getTelegram(id))?.attempts).toBe(1);
  });

  it('every published reading and error matches its JSON Schema', () => {
    const readings = mqtt.matching(/\/reading$/);
    const errors = mqtt.matching(/\/errors\//);
    expect(readings.length).toBeGreaterThan(3);
    expect(errors.length).toBeGreaterThan(3);
    for (const m of readings) expect(validateReading(m.json), JSON.stringify(validateReading.errors)).toBe(true);
    for (const m of errors) expect(validateError(m.json), JSON.stringify(validateError.errors)).toBe(true);
  });

  it('never logs the token or the key', () => {
    const all = t.logs.join('');
    expect(all).not.toContain('test-token-123');
    expect(all).not.toContain(OMS_KEY);
    expect(all.toLowerCase()).not.toContain(OMS_KEY.toLowerCase());
  });
});
