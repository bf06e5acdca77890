import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_KEY } from '../helpers/app.js';
import { FakeLobaro } from '../helpers/fake-lobaro.js';
import { deliveries, PLAIN, runLoad, untilCount } from '../helpers/load.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';
import { freePort, spawnBridge, type BridgeProcess } from '../helpers/process.js';

const pgUrl = process.env.PG_TEST_URL;
const requireServices = process.env.REQUIRE_SERVICES === 'true';

if (!pgUrl && requireServices) {
  describe('scale-out on PostgreSQL', () => {
    it('needs PG_TEST_URL (REQUIRE_SERVICES=true makes this mandatory)', () => {
      expect.fail('PG_TEST_URL is not set');
    });
  });
}

/** Two bridge processes on one PostgreSQL database and one broker; one dies with SIGKILL mid-load. */
describe.skipIf(!pgUrl)('scale-out on PostgreSQL', () => {
  const schema = `oms_scale_${randomBytes(4).toString('hex')}`;
  const dbUrl = `${pgUrl}${pgUrl?.includes('?') ? '&' : '?'}schema=${schema}`;
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let lobaroUrl: string;
  const procs: BridgeProcess[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    lobaroUrl = await lobaro.start();
    lobaro.behaviour = (req) => ({ status: 200, delayMs: 100, body: { meterId: '33225544', currentValue: { value: 1, unit: 'm^3' }, raw: req.query.get('raw') } });
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await lobaro.stop();
    await broker.stop();
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  const start = async (instanceId: string) => {
    const port = await freePort();
    const p = spawnBridge({
      APP_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: dbUrl, INSTANCE_ID: instanceId,
      MQTT_URL: broker.url, INGEST_API_KEYS: `*:${GLOBAL_KEY}`, PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: lobaroUrl,
      N_WORKERS: '4', JOB_LEASE_S: '2', LOG_LEVEL: 'info', MAPPINGS_FILE: '/nonexistent/m.json',
    });
    procs.push(p);
    await p.waitForOutput(/bridge started/);
    return { p, url: `http://127.0.0.1:${port}` };
  };

  it('spreads load over two instances; after one is killed the survivor finishes its jobs; nothing lost or unknown', async () => {
    const gatewayId = `gw-scale-${randomBytes(3).toString('hex')}`;
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${gatewayId}/+/+/reading`, `oms/v1/gw/${gatewayId}/errors/+`, 'oms/v1/bridge/+/status']);
    const [a, b] = await Promise.all([start(`inst-a-${schema}`), start(`inst-b-${schema}`)]);

    // The same telegram posted to both instances at once is parsed once (a unique constraint, not a local set).
    const same = JSON.stringify({ gateway_id: gatewayId, raw_hex: `${PLAIN}ffffffff` });
    const both = await Promise.all([a.url, b.url].map((u) => fetch(`${u}/v1/telegrams`, {
      method: 'POST', headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' }, body: same,
    }).then((r) => r.json() as Promise<{ ingest_id: string; duplicate?: boolean }>)));
    expect(both[0]!.ingest_id).toBe(both[1]!.ingest_id);
    expect(both.filter((r) => r.duplicate).length).toBe(1);

    let stopA = false;
    let stopB = false;
    let sofarA = 0;
    let sofarB = 0;
    const loadA = runLoad({ baseUrl: a.url, key: GLOBAL_KEY, gatewayId, concurrency: 2, pauseMs: 20, stop: () => stopA, salt: 1, onAccepted: (n) => { sofarA = n; } });
    const loadB = runLoad({ baseUrl: b.url, key: GLOBAL_KEY, gatewayId, concurrency: 2, pauseMs: 20, stop: () => stopB, salt: 2, onAccepted: (n) => { sofarB = n; } });
    await new Promise((r) => setTimeout(r, 1_500));
    await untilCount(() => Math.min(sofarA, sofarB), 25, 20_000);
    await a.p.kill('SIGKILL');
    const killedAt = Date.now();
    stopA = true;
    await new Promise((r) => setTimeout(r, 500));
    stopB = true;
    const [ra, rb] = await Promise.all([loadA, loadB]);
    const accepted = [...ra.accepted, ...rb.accepted, both[0]!.ingest_id];
    expect(ra.accepted.length).toBeGreaterThan(20);
    expect(rb.accepted.length).toBeGreaterThan(20);

    await mqtt.waitFor((msgs) => {
      const d = deliveries(msgs);
      return accepted.every((id) => d.has(id));
    }, 90_000);
    const d = deliveries(mqtt.messages);
    // Published ids nobody saw a 202 for: requests the killed process had committed but could not answer.
    const unknown = [...d.keys()].filter((id) => !accepted.includes(id));
    expect(unknown.length).toBeLessThanOrEqual(ra.statuses.get('error') ?? 0);
    // Jobs the dead instance had accepted came out after it died: the survivor took them over after the lease.
    const lateFromA = ra.accepted.filter((id) => mqtt.messages.some((m) => m.json.ingest_id === id && m.at > killedAt + 1_000));
    expect(lateFromA.length).toBeGreaterThan(0);
    const redelivered = [...d.values()].filter((n) => n > 1).length;
    console.log(`scale-out: accepted A ${ra.accepted.length}, B ${rb.accepted.length}; A's finished by B after the kill: ${lateFromA.length}; redelivered ${redelivered}`);

    // Per-instance status: the dead one's last will says offline, the survivor stays online.
    const status = (id: string) => mqtt.messages.filter((m) => m.topic === `oms/v1/bridge/${id}/status`).at(-1)?.payload;
    await mqtt.waitFor(() => status(`inst-a-${schema}`) === 'offline', 10_000);
    expect(status(`inst-b-${schema}`)).toBe('online');
    expect(await b.p.kill('SIGTERM')).toBe(0);
    await mqtt.close();
  }, 150_000);
});
