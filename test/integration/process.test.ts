import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { GLOBAL_KEY } from '../helpers/app.js';
import { FakeLobaro } from '../helpers/fake-lobaro.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';
import { freePort, ROOT, spawnBridge } from '../helpers/process.js';

const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';

async function postTelegram(port: number, gatewayId: string, rawHex: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/telegrams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ gateway_id: gatewayId, raw_hex: rawHex }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('the bridge process', () => {
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let lobaroUrl: string;
  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    lobaroUrl = await lobaro.start();
  });
  afterAll(async () => {
    await lobaro.stop();
    await broker.stop();
  });

  it('keeps every 202 across kill -9: accepted telegrams come out on MQTT after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-restart-'));
    const gatewayId = `gw-restart-${Math.random().toString(16).slice(2, 8)}`;
    const port = await freePort();
    // A parser slower than the ingest rate, so work is still queued when the process dies.
    lobaro.behaviour = (req) => ({ status: 200, delayMs: 300, body: { meterId: '33225544', currentValue: { value: 1, unit: 'm^3' }, raw: req.query.get('raw') } });
    const env = {
      APP_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
      MQTT_URL: broker.url, INGEST_API_KEYS: `*:${GLOBAL_KEY}`, PARSER: 'lobaro', LOBARO_TOKEN: 'tok-restart',
      LOBARO_BASE_URL: lobaroUrl, N_WORKERS: '2', LOG_LEVEL: 'info', MAPPINGS_FILE: join(dir, 'm.json'),
    };
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${gatewayId}/+/+/reading`, `oms/v1/gw/${gatewayId}/errors/+`]);
    const first = spawnBridge(env);
    await first.waitForOutput(/bridge started/);
    const accepted: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await postTelegram(port, gatewayId, `${PLAIN}${i.toString(16).padStart(2, '0')}`);
      expect(res.status).toBe(202);
      accepted.push(res.json.ingest_id as string);
    }
    expect(await first.kill('SIGKILL')).toBeNull();
    const beforeRestart = new Set(mqtt.messages.map((m) => m.json.ingest_id));
    expect(beforeRestart.size).toBeLessThan(accepted.length); // the crash really interrupted work

    const second = spawnBridge(env);
    await second.waitForOutput(/bridge started/);
    await mqtt.waitFor((msgs) => accepted.every((id) => msgs.some((m) => m.json.ingest_id === id)), 30_000);
    const ids = mqtt.messages.map((m) => m.json.ingest_id as string);
    expect(ids.every((id) => accepted.includes(id))).toBe(true);
    expect(await second.kill('SIGTERM')).toBe(0);
    await mqtt.close();
  }, 90_000);

  it('status topic: online while running, offline after SIGTERM (bounded) and after kill -9 (last will)', async () => {
    // A private broker: the shared one's retained status is touched by other tests.
    const own = new EmbeddedBroker(0);
    await own.start();
    const dir = mkdtempSync(join(tmpdir(), 'oms-term-'));
    const env = async () => ({
      APP_ENV: 'test', HOST: '127.0.0.1', PORT: String(await freePort()), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
      MQTT_URL: own.url, INGEST_API_KEYS: `*:${GLOBAL_KEY}`, LOG_LEVEL: 'info', MAPPINGS_FILE: join(dir, 'm.json'),
    });
    const status = await Collector.connect(own.url, ['oms/v1/bridge/status']);
    const last = () => status.messages.at(-1)?.payload;
    try {
      const bridge = spawnBridge(await env());
      await bridge.waitForOutput(/bridge started/);
      await status.waitFor(() => last() === 'online');
      const started = Date.now();
      expect(await bridge.kill('SIGTERM')).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(bridge.stdout.join('')).toContain('bridge stopped');
      await status.waitFor(() => last() === 'offline');

      const crashing = spawnBridge(await env());
      await crashing.waitForOutput(/bridge started/);
      await status.waitFor(() => last() === 'online');
      await crashing.kill('SIGKILL');
      await status.waitFor(() => last() === 'offline', 15_000);
    } finally {
      await status.close();
      await own.stop();
    }
  }, 60_000);

  it('with the embedded broker\'s port taken, exits naming MQTT_URL and EMBEDDED_MQTT_PORT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-port-'));
    const taken = await startTestBroker();
    const port = new URL(taken.url).port;
    const bridge = spawnBridge({
      APP_ENV: 'dev', HOST: '127.0.0.1', PORT: String(await freePort()), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
      EMBEDDED_MQTT_PORT: port, LOG_LEVEL: 'info', MAPPINGS_FILE: join(dir, 'm.json'),
    });
    const code = await bridge.exited;
    await taken.stop();
    expect(code).not.toBe(0);
    const err = bridge.stderr.join('');
    expect(err).toContain('MQTT_URL');
    expect(err).toContain('EMBEDDED_MQTT_PORT');
  }, 30_000);

  it('embedded default: starts its own broker, prints a one-time key, and the telegram reaches MQTT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-embedded-'));
    const mqttPort = await freePort();
    const port = await freePort();
    const bridge = spawnBridge({
      HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
      EMBEDDED_MQTT_PORT: String(mqttPort), MAPPINGS_FILE: join(dir, 'm.json'),
    });
    await bridge.waitForOutput(/Authorization: Bearer \S+/);
    await bridge.waitForOutput(/bridge started/);
    // The start line names where it listens (the redaction of URLs must not hide it).
    expect(bridge.stdout.join('')).toContain(`"listen":"http://127.0.0.1:${port}"`);
    const key = /Authorization: Bearer (\S+)/.exec(bridge.stderr.join(''))![1]!;
    const mqtt = await Collector.connect(`mqtt://127.0.0.1:${mqttPort}`, ['oms/v1/#']);
    const res = await fetch(`http://127.0.0.1:${port}/v1/telegrams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gateway_id: 'gw1', raw_hex: PLAIN }),
    });
    expect(res.status).toBe(202);
    await mqtt.waitFor((m) => m.some((x) => x.topic.startsWith('oms/v1/gw/gw1/raw/')) && m.some((x) => /^oms\/v1\/gw\/gw1\/(meter|errors)\//.test(x.topic)));
    await mqtt.close();
    expect(await bridge.kill('SIGTERM')).toBe(0);
  }, 60_000);

  it('npm start runs the bundle (scripts/bundle.mjs): its threads start, the console is served, the telegram reaches MQTT', async () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe('node dist/bundle/main.js');
    // Built from the sources under test, two levels below the root like dist/bundle.
    const out = `dist/bundle-test-${Math.random().toString(16).slice(2, 10)}`;
    try {
      const built = spawnSync(process.execPath, ['scripts/bundle.mjs', out], { cwd: ROOT, encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), 'oms-bundle-'));
      const port = await freePort();
      const bridge = spawnBridge({
        HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`, PIPELINE_THREAD: 'true',
        MQTT_URL: broker.url, INGEST_API_KEYS: `*:${GLOBAL_KEY}`, MAPPINGS_FILE: join(dir, 'm.json'),
      }, [join(out, 'main.js')]);
      await bridge.waitForOutput(/bridge started/);
      const gatewayId = `gw-bundle-${Math.random().toString(16).slice(2, 8)}`;
      const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${gatewayId}/#`]);
      const res = await postTelegram(port, gatewayId, PLAIN);
      expect(res.status).toBe(202);
      // The reading comes from the pipeline thread through the writer thread: both bundled entries ran.
      await mqtt.waitFor((m) => m.some((x) => x.topic.endsWith('/reading')), 30_000);
      const reading = JSON.parse(mqtt.messages.find((x) => x.topic.endsWith('/reading'))!.payload) as { ingest_id: string; values: Array<{ value: unknown }> };
      expect(reading.ingest_id).toBe(res.json.ingest_id);
      expect(reading.values.length).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/ui/`)).status).toBe(200);
      await mqtt.close();
      expect(await bridge.kill('SIGTERM')).toBe(0);
    } finally {
      rmSync(join(ROOT, out), { recursive: true, force: true });
    }
  }, 90_000);

  it('APP_ENV=prod refuses to start without its secrets, one line per problem', async () => {
    const bridge = spawnBridge({ APP_ENV: 'prod', PARSER: 'lobaro' });
    expect(await bridge.exited).toBe(2);
    const lines = bridge.stderr.join('').trim().split('\n');
    expect(lines).toEqual([
      'config error: INGEST_API_KEYS: required when APP_ENV=prod',
      'config error: ADMIN_TOKEN: required when APP_ENV=prod',
      'config error: LOBARO_TOKEN: required when APP_ENV=prod and PARSER=lobaro',
      'config error: KEY_ENCRYPTION_SECRET: required when APP_ENV=prod (AES keys are encrypted at rest)',
    ]);
  });

  it('a second process on the same SQLite file fails fast and points to PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-lock-'));
    const env = (port: number) => ({
      APP_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'bridge.db')}`,
      MQTT_URL: broker.url, INGEST_API_KEYS: `*:${GLOBAL_KEY}`, LOG_LEVEL: 'info', MAPPINGS_FILE: join(dir, 'm.json'),
    });
    const first = spawnBridge(env(await freePort()));
    await first.waitForOutput(/bridge started/);
    const second = spawnBridge(env(await freePort()));
    expect(await second.exited).toBe(1);
    expect(second.stderr.join('')).toMatch(/in use by another process.*postgres/i);
    expect(await first.kill('SIGTERM')).toBe(0);
  }, 40_000);
});
