import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, post, startTestApp, type TestApp } from '../helpers/app.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

const ADMIN = 'a'.repeat(24);
const pgUrl = process.env.PG_TEST_URL;

describe('gateway liveness (issue 12)', () => {
  let broker: TestBroker;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  const schema = `oms_gwlive_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await broker.stop();
    if (!pgUrl) return;
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  const events = (c: Collector, gatewayId: string) =>
    c.messages.filter((m) => m.topic === 'oms/v1/bridge/events' && m.json.gateway_id === gatewayId).map((m) => m.json.event);
  const states = (c: Collector, gatewayId: string) => c.messages.filter((m) => m.topic === `oms/v1/gw/${gatewayId}/status`).map((m) => m.payload);

  it('publishes online, then silent after GATEWAY_SILENT_S, then back; shows it in /v1/admin/gateways and /metrics', async () => {
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', GATEWAY_SILENT_S: '1', ADMIN_TOKEN: ADMIN });
    apps.push(t);
    const gw = t.gatewayId;
    const mqtt = await Collector.connect(broker.url, ['oms/v1/bridge/events', `oms/v1/gw/${gw}/status`]);
    expect((await post(t.app, { gateway_id: gw, raw_hex: OMS_EXAMPLE })).status).toBe(202);
    await mqtt.waitFor(() => states(mqtt, gw).includes('online'));
    await mqtt.waitFor(() => events(mqtt, gw).includes('gateway_silent'), 15_000);
    // The event and the retained state are two messages on two topics: either may arrive first.
    await mqtt.waitFor(() => states(mqtt, gw).length === 2);
    expect(states(mqtt, gw)).toEqual(['online', 'silent']);
    const silent = mqtt.messages.find((m) => m.json.event === 'gateway_silent' && m.json.gateway_id === gw)!;
    expect(silent.json).toMatchObject({ schema: expect.any(String), last_seen: expect.any(String), silent_s: expect.any(Number) });

    const view = await t.app.http.inject({ method: 'GET', url: '/v1/admin/gateways', headers: { authorization: `Bearer ${ADMIN}` } });
    expect((view.json() as { items: unknown[] }).items).toEqual([expect.objectContaining({ gateway_id: gw, status: 'silent', telegrams_last_hour: 1 })]);
    const metrics = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/oms_bridge_gateways\{status="silent"\} 1/);
    expect(metrics).toMatch(new RegExp(`oms_bridge_gateway_telegrams_total\\{gateway="${gw}"\\} 1`));
    expect(metrics).toMatch(new RegExp(`oms_bridge_gateway_last_seen_seconds\\{gateway="${gw}"\\} [0-9.]+`));

    expect((await post(t.app, { gateway_id: gw, raw_hex: `${OMS_EXAMPLE.slice(0, -2)}00` })).status).toBe(202);
    await mqtt.waitFor(() => events(mqtt, gw).includes('gateway_back'), 15_000);
    await mqtt.waitFor(() => states(mqtt, gw).length === 3);
    expect(states(mqtt, gw)).toEqual(['online', 'silent', 'online']);
    expect(events(mqtt, gw)).toEqual(['gateway_silent', 'gateway_back']);
    await mqtt.close();

    // The state is retained: a late subscriber learns it at once.
    const late = await Collector.connect(broker.url, [`oms/v1/gw/${gw}/status`]);
    await late.waitFor((m) => m.length > 0);
    expect(late.messages[0]).toMatchObject({ payload: 'online', retain: true });
    await late.close();
  }, 60_000);

  describe.skipIf(!pgUrl)('two instances on PostgreSQL', () => {
    it('publish each transition once', async () => {
      const u = new URL(pgUrl as string);
      u.searchParams.set('schema', schema);
      const gatewayId = `gw-${randomBytes(4).toString('hex')}`;
      const env = { MQTT_URL: broker.url, PARSER: 'local', GATEWAY_SILENT_S: '1', DATABASE_URL: u.toString() };
      const a = await startTestApp({ ...env, INSTANCE_ID: `a-${schema}` }, { gatewayId });
      apps.push(a);
      const b = await startTestApp({ ...env, INSTANCE_ID: `b-${schema}` }, { gatewayId });
      apps.push(b);
      const mqtt = await Collector.connect(broker.url, ['oms/v1/bridge/events', `oms/v1/gw/${gatewayId}/status`]);
      expect((await post(a.app, { gateway_id: gatewayId, raw_hex: OMS_EXAMPLE })).status).toBe(202);
      expect((await post(b.app, { gateway_id: gatewayId, raw_hex: `${OMS_EXAMPLE.slice(0, -2)}01` })).status).toBe(202);
      await mqtt.waitFor(() => events(mqtt, gatewayId).includes('gateway_silent'), 15_000);
      expect((await post(b.app, { gateway_id: gatewayId, raw_hex: `${OMS_EXAMPLE.slice(0, -2)}02` })).status).toBe(202);
      await mqtt.waitFor(() => events(mqtt, gatewayId).includes('gateway_back'), 15_000);
      // Both instances evaluate every 250 ms; let it fall silent again, then look for any duplicate.
      await mqtt.waitFor(() => events(mqtt, gatewayId).length >= 3, 15_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(events(mqtt, gatewayId)).toEqual(['gateway_silent', 'gateway_back', 'gateway_silent']);
      expect(states(mqtt, gatewayId)).toEqual(['online', 'silent', 'online', 'silent']);
      await mqtt.close();
    }, 60_000);
  });
});
