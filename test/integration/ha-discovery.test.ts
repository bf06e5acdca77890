import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { validateDeviceDiscovery } from '../helpers/ha-validator.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** Sensus iPERL water meter 33225544, unencrypted (public vector): volume and flow. */
const IPERL = '1844ae4c4455223368077a55000000041389e20100023b0000';
const CONFIG = 'device/oms_sen_33225544/config';
const STATE = 'oms/v1/meter/SEN_33225544/state';
const ADMIN = 'admin-token-for-tests-0001';

describe('Home Assistant discovery (whole app, pipeline thread)', () => {
  let broker: TestBroker;
  let t: TestApp | undefined;
  let sub: Collector | undefined;
  // A prefix of its own: the shared Mosquitto keeps retained configs.
  const prefix = `ha-test-${Math.random().toString(16).slice(2, 10)}`;

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterEach(async () => {
    await sub?.close();
    await t?.stop();
    sub = undefined;
    t = undefined;
  });
  afterAll(async () => {
    // Leave no retained messages on a shared broker.
    const c = await mqtt.connectAsync(broker.url);
    for (const topic of [`${prefix}/${CONFIG}`, `${prefix}/device/oms_parser_bridge/config`, STATE]) await c.publishAsync(topic, '', { qos: 1, retain: true });
    await c.endAsync();
    await broker.stop();
  });

  it('publishes device config and flat state retained on the first reading; HA birth re-publishes', async () => {
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', HA_DISCOVERY: 'true', HA_DISCOVERY_PREFIX: prefix });
    sub = await Collector.connect(broker.url, [`${prefix}/device/#`, STATE]);
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: IPERL, rssi_dbm: -80 });
    expect(res.status).toBe(202);
    await sub.waitFor((m) => m.some((x) => x.topic === `${prefix}/${CONFIG}`) && m.some((x) => x.topic === STATE));
    const config = sub.messages.find((x) => x.topic === `${prefix}/${CONFIG}`)!;
    expect(validateDeviceDiscovery(config.topic, config.payload, prefix)).toEqual([]);
    expect(Object.keys(config.json.cmps as object).sort()).toEqual(['last_seen', 'rssi', 'volume_flow_m3h', 'volume_m3']);
    expect(config.json).toMatchObject({ state_topic: STATE, availability_topic: 'oms/v1/bridge/status' });
    const state = sub.messages.find((x) => x.topic === STATE)!;
    expect(state.json).toMatchObject({ volume_m3: expect.any(Number), rssi_dbm: -80, gateway_id: t.gatewayId });
    expect(sub.messages.some((x) => x.topic === `${prefix}/device/oms_parser_bridge/config`)).toBe(true);

    // Retained: a client that subscribes later (HA after a restart) still gets the config.
    const late = await Collector.connect(broker.url, [`${prefix}/${CONFIG}`]);
    await late.waitFor((m) => m.length > 0);
    expect(late.messages[0]!.retain).toBe(true);
    await late.close();

    // HA's birth message: the bridge sends every config again.
    const before = sub.messages.filter((x) => x.topic === `${prefix}/${CONFIG}`).length;
    const ha = await mqtt.connectAsync(broker.url);
    await ha.publishAsync(`${prefix}/status`, 'online', { qos: 1 });
    await ha.endAsync();
    await sub.waitFor((m) => m.filter((x) => x.topic === `${prefix}/${CONFIG}`).length > before);
    // The reading itself carries the flat state too.
    const rec = await t.app.store.getTelegram(res.json.ingest_id);
    expect((rec!.parsed as { state: Record<string, number> }).state.volume_m3).toBe(state.json.volume_m3);
  });

  it('admin API: liveness per meter, the oms_bridge_meters gauge, and deleting a meter clears its HA config', async () => {
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', HA_DISCOVERY: 'true', HA_DISCOVERY_PREFIX: prefix, ADMIN_TOKEN: ADMIN });
    sub = await Collector.connect(broker.url, [`${prefix}/${CONFIG}`]);
    const admin = async (method: 'GET' | 'DELETE', url: string) => {
      const res = await t!.app.http.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` } });
      return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as Record<string, any>) : {}, body: res.body };
    };
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: IPERL, rssi_dbm: -80 }, { query: '?sync=true' });
    expect(res.status).toBe(200);
    const ok = await admin('GET', '/v1/admin/meters?status=ok');
    expect(ok.json.items).toEqual([expect.objectContaining({
      meter_id: '33225544', manufacturer: 'SEN', status: 'ok', interval_s: null, last_error: null,
      gateways: [expect.objectContaining({ gateway_id: t.gatewayId, rssi_dbm: -80 })],
    })]);
    expect((await admin('GET', '/v1/admin/meters?status=stale')).json.items).toEqual([]);
    expect((await admin('GET', '/v1/admin/meters/33225544')).json).toMatchObject({ meter_id: '33225544', status: 'ok' });
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/oms_bridge_meters\{status="ok"\} 1/);
    expect(metrics.body).toMatch(/oms_bridge_meters\{status="stale"\} 0/);

    expect((await admin('DELETE', '/v1/admin/meters/33225544')).status).toBe(204);
    await sub.waitFor((m) => m.some((x) => x.payload === '' && !x.retain));
    expect((await admin('GET', '/v1/admin/meters/33225544')).status).toBe(404);
    expect((await admin('DELETE', '/v1/admin/meters/33225544')).status).toBe(404);
    expect((await admin('GET', '/v1/admin/audit')).json.items[0]).toMatchObject({ action: 'meter.delete', target: '33225544' });
  });

  it('publishes nothing for HA when HA_DISCOVERY is off', async () => {
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', HA_DISCOVERY_PREFIX: prefix });
    sub = await Collector.connect(broker.url, [`${prefix}/#`, STATE, `oms/v1/gw/${t.gatewayId}/#`]);
    await post(t.app, { gateway_id: t.gatewayId, raw_hex: IPERL });
    await sub.waitFor((m) => m.some((x) => x.topic.endsWith('/reading')));
    // Retained copies from the first test arrive flagged retain; anything published now would not be.
    expect(sub.messages.filter((x) => (x.topic.startsWith(prefix) || x.topic === STATE) && !x.retain)).toEqual([]);
  });
});
