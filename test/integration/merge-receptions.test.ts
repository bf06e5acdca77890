import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { Collector, startTestBroker, type Received, type TestBroker } from '../helpers/mqtt.js';
import { validateReading } from '../helpers/schemas.js';

const ADMIN = 'a'.repeat(24);
const pgUrl = process.env.PG_TEST_URL;
const requireServices = process.env.REQUIRE_SERVICES === 'true';

/** A plain OMS telegram (meter 33225544) with a unique tail; `c` replaces the C field as a repeater or another gateway's framing may. */
function transmission(tail: number, c = '44'): string {
  return `18${c}ae4c4455223368077a55000000041389e20100023b0000${tail.toString(16).padStart(8, '0')}`;
}

/**
 * Three gateways hear one transmission (one with other DLL bytes) and POST it at the same moment,
 * spread over the given apps; then: three 202s, three ingest ids, three raw messages, one reading.
 */
async function threeGateways(apps: TestApp[], mqtt: Collector, tail: number, topicOf: (strongest: string) => string) {
  const suffix = randomBytes(3).toString('hex');
  const sent = [
    { gateway_id: `gw-weak-${suffix}`, rssi_dbm: -95, raw_hex: transmission(tail) },
    { gateway_id: `gw-strong-${suffix}`, rssi_dbm: -55, raw_hex: transmission(tail, '46') },
    { gateway_id: `gw-mid-${suffix}`, rssi_dbm: -70, raw_hex: transmission(tail) },
  ];
  const answers = await Promise.all(sent.map((body, i) => post(apps[i % apps.length]!.app, body)));
  expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
  const ids = answers.map((a) => a.json.ingest_id as string);
  expect(new Set(ids).size).toBe(3);

  const readingsOf = (msgs: Received[]) => msgs.filter((m) => m.topic.endsWith('/reading') && ids.includes(m.json.ingest_id as string));
  await mqtt.waitFor((msgs) => readingsOf(msgs).length >= 1 && ids.every((id) => msgs.some((m) => m.topic.endsWith(`/raw/${id}`))), 20_000);
  // The job ran after the merge window; give a second reading time to appear if the merge were broken.
  await new Promise((r) => setTimeout(r, 1_500));
  const readings = readingsOf(mqtt.messages);
  expect(readings).toHaveLength(1);
  const reading = readings[0]!;
  expect(reading.topic).toBe(topicOf(sent[1]!.gateway_id));
  expect(validateReading(reading.json), JSON.stringify(validateReading.errors)).toBe(true);
  const receptions = reading.json.receptions as Array<{ gateway_id: string; rssi_dbm: number; ingest_id: string; rx_time: string }>;
  expect(receptions.map((r) => [r.gateway_id, r.rssi_dbm])).toEqual([[sent[1]!.gateway_id, -55], [sent[2]!.gateway_id, -70], [sent[0]!.gateway_id, -95]]);
  expect(receptions.map((r) => r.ingest_id).sort()).toEqual([...ids].sort());

  // Every acknowledged ingest id is findable: the job's is done, the others say which job carries them.
  const carrier = reading.json.ingest_id as string;
  for (const id of ids) {
    const res = await apps[0]!.app.http.inject({ method: 'GET', url: `/v1/admin/telegrams/${id}`, headers: { authorization: `Bearer ${ADMIN}` } });
    const t = res.json() as { status: string; merged_into: string | null };
    expect(t).toMatchObject(id === carrier ? { status: 'done', merged_into: null } : { status: 'merged', merged_into: carrier });
  }
  return { ids, reading };
}

describe('DEDUP_SCOPE=global: one reading per radio transmission (issue 12)', () => {
  let broker: TestBroker;
  let mqtt: Collector;
  const apps: TestApp[] = [];
  const schema = `oms_merge_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    broker = await startTestBroker();
    mqtt = await Collector.connect(broker.url, ['oms/v1/gw/+/meter/+/reading', 'oms/v1/meter/+/reading', 'oms/v1/gw/+/raw/+']);
  });
  afterAll(async () => {
    await mqtt.close();
    for (const a of apps) await a.stop();
    await broker.stop();
    if (!pgUrl) return;
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  const env = { PARSER: 'local', DEDUP_SCOPE: 'global', MERGE_WINDOW_MS: '500', ADMIN_TOKEN: ADMIN };

  it('SQLite: three gateways, one reading on the strongest gateway\'s topic with three receptions', async () => {
    const t = await startTestApp({ ...env, MQTT_URL: broker.url });
    apps.push(t);
    await threeGateways([t], mqtt, 1, (gw) => `oms/v1/gw/${gw}/meter/33225544/reading`);
    // ?sync=true of a reception that joins another's job answers with that job's reading.
    const tail = 2;
    const first = post(t.app, { gateway_id: 'gw-sync-a', rssi_dbm: -80, raw_hex: transmission(tail) }, { query: '?sync=true' });
    const second = post(t.app, { gateway_id: 'gw-sync-b', rssi_dbm: -60, raw_hex: transmission(tail) }, { query: '?sync=true' });
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(r1.json.ingest_id).toBe(r2.json.ingest_id);
    expect((r1.json.receptions as unknown[]).length).toBe(2);
  }, 60_000);

  it('SQLite: MERGE_TOPIC=meter publishes on oms/v1/meter/{meter_id}/reading', async () => {
    const t = await startTestApp({ ...env, MQTT_URL: broker.url, MERGE_TOPIC: 'meter' });
    apps.push(t);
    await threeGateways([t], mqtt, 3, () => 'oms/v1/meter/33225544/reading');
  }, 60_000);

  if (!pgUrl && requireServices) it('PostgreSQL needs PG_TEST_URL', () => expect.fail('PG_TEST_URL is not set'));

  it.skipIf(!pgUrl)('PostgreSQL: two bridges on one database, three gateways POSTing concurrently → exactly one reading with three receptions', async () => {
    const u = new URL(pgUrl as string);
    u.searchParams.set('schema', schema);
    const shared = { ...env, MQTT_URL: broker.url, DATABASE_URL: u.toString() };
    const a = await startTestApp({ ...shared, INSTANCE_ID: `a-${schema}` });
    apps.push(a);
    const b = await startTestApp({ ...shared, INSTANCE_ID: `b-${schema}` });
    apps.push(b);
    for (let tail = 10; tail < 15; tail++) await threeGateways([a, b], mqtt, tail, (gw) => `oms/v1/gw/${gw}/meter/33225544/reading`);
  }, 120_000);
});
