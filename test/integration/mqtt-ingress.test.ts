import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestService } from '../../src/ingest/ingest-service.js';
import { MqttIngress } from '../../src/ingress/mqtt-ingress.js';
import { EventBus } from '../../src/observability/events.js';
import { GLOBAL_KEY, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro } from '../helpers/fake-lobaro.js';
import { Collector } from '../helpers/mqtt.js';
import { freePort, spawnBridge } from '../helpers/process.js';

const brokerUrl = process.env.MQTT_TEST_URL;
const requireServices = process.env.REQUIRE_SERVICES === 'true';
const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';
const hexOf = (i: number) => `${PLAIN}${i.toString(16).padStart(4, '0')}`;
const rand = () => Math.random().toString(16).slice(2, 8);

if (!brokerUrl && requireServices) {
  describe('MQTT ingress', () => {
    it('needs MQTT_TEST_URL (a Mosquitto with shared subscriptions and persistent sessions)', () => {
      expect.fail('MQTT_TEST_URL is not set');
    });
  });
}

/** Raw messages by gateway and raw hex: one per stored telegram. */
function rawHexes(c: Collector, gatewayId: string): string[] {
  return c.matching(new RegExp(`^oms/v1/gw/${gatewayId}/raw/`)).map((m) => String(m.json.raw_hex));
}

describe.skipIf(!brokerUrl)('MQTT ingress against Mosquitto', () => {
  const prefix = `it-${rand()}`;
  let t: TestApp;
  let pub: MqttClient;

  beforeAll(async () => {
    t = await startTestApp({
      MQTT_URL: brokerUrl!, INSTANCE_ID: `ingress-${rand()}`,
      INGRESS_MQTT_TOPICS: `${prefix}/wmbus/{gateway_id}/telegram, ${prefix}/oms/ingest/{gateway_id}`,
    });
    pub = await mqtt.connectAsync(brokerUrl!, { clientId: `pub-${rand()}` });
  });
  afterAll(async () => {
    await pub?.endAsync();
    await t?.stop();
  });

  it('stores bare hex and HTTP-shaped JSON, each under the gateway id of its topic', async () => {
    const gw = `esp32-${rand()}`;
    const c = await Collector.connect(brokerUrl!, [`oms/v1/gw/${gw}/raw/+`]);
    await pub.publishAsync(`${prefix}/wmbus/${gw}/telegram`, ` 0x${hexOf(1).toUpperCase().replace(/(..)/g, '$1 ')}\n`, { qos: 1 });
    await pub.publishAsync(`${prefix}/oms/ingest/${gw}`, JSON.stringify({ raw_hex: hexOf(2), rssi_dbm: -71, mode: 'C1' }), { qos: 1 });
    await pub.publishAsync(`${prefix}/wmbus/${gw}/telegram`, JSON.stringify({ telegram: hexOf(3), rssi: -90 }), { qos: 1 });
    await c.waitFor(() => rawHexes(c, gw).length === 3);
    expect(rawHexes(c, gw).sort()).toEqual([hexOf(1), hexOf(2), hexOf(3)]);
    const page = await t.app.store.listTelegrams({ gatewayId: gw }, 10, null);
    expect(page.items.map((x) => x.rssiDbm ?? 0).sort((a, b) => a - b)).toEqual([-90, -71, 0]);
    await c.close();
  });

  it('refuses invalid messages on oms/v1/ingest-errors/{gateway_id} (or _invalid) with reason and input', async () => {
    const gw = `esp32-${rand()}`;
    const c = await Collector.connect(brokerUrl!, [`oms/v1/ingest-errors/${gw}`, 'oms/v1/ingest-errors/_invalid']);
    await pub.publishAsync(`${prefix}/wmbus/${gw}/telegram`, 'zz12', { qos: 1 });
    await pub.publishAsync(`${prefix}/oms/ingest/${gw}`, JSON.stringify({ gateway_id: 'someone-else', raw_hex: hexOf(4) }), { qos: 1 });
    const badId = `bad%id-${rand()}`;
    await pub.publishAsync(`${prefix}/wmbus/${badId}/telegram`, hexOf(5), { qos: 1 });
    await c.waitFor((m) => m.length >= 3);
    const mine = c.matching(new RegExp(`ingest-errors/${gw}$`));
    expect(mine.map((m) => (m.json.error as { code: string }).code).sort()).toEqual(['forbidden', 'validation_failed']);
    expect(mine.find((m) => m.json.input === 'zz12')?.json).toMatchObject({ topic: `${prefix}/wmbus/${gw}/telegram`, error: { details: [{ field: 'raw_hex' }] } });
    const invalid = c.matching(/_invalid$/).find((m) => String(m.json.topic).includes(badId));
    expect(invalid?.json).toMatchObject({ error: { code: 'validation_failed' }, input: hexOf(5) });
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/oms_bridge_ingest_items_total\{via="mqtt",outcome="invalid"\} [3-9]/);
    await c.close();
  });
});

describe.skipIf(!brokerUrl)('MQTT ingress: kill -9 between receive and write', () => {
  let lobaro: FakeLobaro;
  let lobaroUrl: string;
  beforeAll(async () => {
    lobaro = new FakeLobaro();
    lobaroUrl = await lobaro.start();
    lobaro.behaviour = () => ({ status: 200, hang: true });
  });
  afterAll(async () => {
    await lobaro.stop();
  });

  it('a message received but not yet stored is not acknowledged: after kill -9 and restart every telegram is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-ingress-kill-'));
    const prefix = `kill-${rand()}`;
    const gw = `gw-${rand()}`;
    const port = await freePort();
    const env = {
      APP_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`, MQTT_URL: brokerUrl!,
      INGEST_API_KEYS: `*:${GLOBAL_KEY}`, MAPPINGS_FILE: join(dir, 'm.json'), LOG_LEVEL: 'info',
      // The same INSTANCE_ID after the restart: the same persistent session at the broker.
      INSTANCE_ID: `ingress-kill-${rand()}`, INGRESS_MQTT_TOPICS: `${prefix}/{gateway_id}/telegram`,
    };
    const c = await Collector.connect(brokerUrl!, [`oms/v1/gw/${gw}/raw/+`]);
    // A parser that never answers and QUEUE_MAX=1: the first telegram fills the queue, the second
    // is received and waits to be written.
    const first = spawnBridge({ ...env, QUEUE_MAX: '1', PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: lobaroUrl });
    await first.waitForOutput(/MQTT ingress connected/);
    const pub = await mqtt.connectAsync(brokerUrl!, { clientId: `pub-${rand()}` });
    for (let i = 0; i < 5; i++) await pub.publishAsync(`${prefix}/${gw}/telegram`, hexOf(100 + i), { qos: 1 });
    await first.waitForOutput(/could not store a telegram/);
    await c.waitFor(() => rawHexes(c, gw).length === 1);
    expect(await first.kill('SIGKILL')).toBeNull();
    expect(rawHexes(c, gw)).toEqual([hexOf(100)]);

    const second = spawnBridge({ ...env, PARSER: 'local' });
    await c.waitFor(() => new Set(rawHexes(c, gw)).size === 5, 30_000);
    expect(new Set(rawHexes(c, gw))).toEqual(new Set([0, 1, 2, 3, 4].map((i) => hexOf(100 + i))));
    expect(await second.kill('SIGTERM')).toBe(0);
    await pub.endAsync();
    await c.close();
  }, 90_000);

  it('a store outage longer than a keepalive: the redelivered message has one handler, stored and acknowledged once', async () => {
    const prefix = `outage-${rand()}`;
    const gw = `gw-${rand()}`;
    let storeUp = false;
    let stored = 0;
    const ingest = {
      full: () => false,
      acceptBatch: async () => {
        if (!storeUp) throw new Error('database refuses writes');
        stored++;
        return [{ ingestId: `id-${stored}`, duplicate: false }];
      },
    } as unknown as IngestService;
    const logs: string[] = [];
    const ingress = new MqttIngress(
      { url: brokerUrl!, clientId: `ingress-outage-${rand()}`, topics: [`${prefix}/{gateway_id}/telegram`], group: undefined, keepaliveS: 1 },
      ingest, new EventBus(pino({ enabled: false })), pino({ level: 'info' }, { write: (l: string) => logs.push(l) }),
    );
    await ingress.start();
    const pub = await mqtt.connectAsync(brokerUrl!, { clientId: `pub-${rand()}` });
    try {
      await expect.poll(() => ingress.connected, { timeout: 10_000 }).toBe(true);
      await pub.publishAsync(`${prefix}/${gw}/telegram`, hexOf(300), { qos: 1 });
      // The handler holds the input: PINGRESPs go unread and MQTT.js reconnects every ~1.5 s meanwhile.
      await expect.poll(() => logs.filter((l) => l.includes('MQTT ingress connected')).length, { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(3);
      storeUp = true;
      await expect.poll(() => stored, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(stored).toBe(1);
    } finally {
      await pub.endAsync();
      await ingress.stop();
    }
  }, 60_000);
});
