import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { waitForPort } from '../helpers/killable-broker.js';
import { Collector } from '../helpers/mqtt.js';
import { freePort, spawnBridge } from '../helpers/process.js';
import { WssBroker } from '../helpers/wss-broker.js';

const haveTools = !spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error && !spawnSync('openssl', ['version'], { stdio: 'ignore' }).error;
const TLS_FAILED = /MQTT TLS handshake failed: /;

/**
 * A real Mosquitto started by the test with three listeners on 127.0.0.1:
 * plain (the test's subscriber), TLS with server authentication, and TLS that
 * requires a client certificate. CA and certificates come from the openssl binary.
 */
describe.skipIf(!haveTools)('MQTT over TLS against Mosquitto', () => {
  let pki: TestPki;
  let broker: ChildProcess;
  const ports = { plain: 0, tls: 0, mtls: 0 };
  let t: TestApp | undefined;
  let sub: Collector | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-tls-'));
    pki = makeTestPki(dir);
    // Mosquitto started as root drops to its own user, which must read the files.
    chmodSync(dir, 0o755);
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
    ports.plain = await freePort();
    ports.tls = await freePort();
    ports.mtls = await freePort();
    const tls = `cafile ${pki.caCert}\ncertfile ${pki.serverCert}\nkeyfile ${pki.serverKey}\n`;
    writeFileSync(join(dir, 'mosquitto.conf'), [
      'allow_anonymous true', 'persistence false',
      `listener ${ports.plain} 127.0.0.1`,
      `listener ${ports.tls} 127.0.0.1`, tls,
      `listener ${ports.mtls} 127.0.0.1`, tls, 'require_certificate true', '',
    ].join('\n'));
    await startBroker();
  });
  afterEach(async () => {
    await sub?.close();
    await t?.stop();
    sub = undefined;
    t = undefined;
  });
  afterAll(async () => {
    await stopBroker();
    rmSync(pki.dir, { recursive: true, force: true });
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function startBroker(): Promise<void> {
    broker = spawn('mosquitto', ['-c', join(pki.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await Promise.all(Object.values(ports).map((p) => waitForPort(p)));
  }
  async function stopBroker(): Promise<void> {
    const exited = new Promise((r) => broker.once('exit', r));
    broker.kill('SIGKILL');
    await exited;
  }

  const plainUrl = () => `mqtt://127.0.0.1:${ports.plain}`;
  async function start(env: Record<string, string>, opts: { dir?: string; gatewayId?: string } = {}): Promise<TestApp> {
    t = await startTestApp({ ENABLE_DEDUP: 'false', ...env }, opts);
    sub ??= await Collector.connect(plainUrl(), [`oms/v1/gw/${t.gatewayId}/#`]);
    return t;
  }
  const readings = () => sub!.matching(/\/reading$/);
  const send = async (app: TestApp) => {
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY });
    expect(res.status).toBe(202);
    return res.json.ingest_id as string;
  };
  const health = async (app: TestApp) => JSON.parse((await app.app.http.inject({ method: 'GET', url: '/healthz' })).body) as Record<string, any>;
  const tlsFailureLines = (app: TestApp) => app.logs.filter((l) => TLS_FAILED.test(l));

  it('server authentication: MQTT_CA_FILE trusts a private CA, readings arrive', async () => {
    const app = await start({ MQTT_URL: `mqtts://127.0.0.1:${ports.tls}`, MQTT_CA_FILE: pki.caCert });
    const id = await send(app);
    await sub!.waitFor(() => readings().some((m) => m.json.ingest_id === id));
    expect((await health(app)).mqtt).toEqual({ connected: true });
    expect(tlsFailureLines(app)).toEqual([]);
    // Without a client certificate the gauge is absent, not 0 (which would read as "expired").
    expect((await app.app.http.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('client_cert_expiry');
  });

  it('mutual TLS: a client without a certificate is refused; the bridge with one publishes', async () => {
    const anonymous = mqtt.connect(`mqtts://127.0.0.1:${ports.mtls}`, { ca: readFileSync(pki.caCert), reconnectPeriod: 0, connectTimeout: 3_000 });
    const refused = await new Promise<Error>((resolve) => {
      anonymous.once('error', resolve);
      anonymous.once('connect', () => resolve(new Error('connected without a certificate')));
    });
    anonymous.end(true);
    expect((refused as NodeJS.ErrnoException).code).toMatch(/^ERR_SSL_/);

    const app = await start({
      MQTT_URL: `mqtts://127.0.0.1:${ports.mtls}`, MQTT_CA_FILE: pki.caCert,
      MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKeyEncrypted, MQTT_KEY_PASSPHRASE: pki.passphrase,
    });
    const id = await send(app);
    await sub!.waitFor(() => readings().some((m) => m.json.ingest_id === id));
    const cert = (await health(app)).mqtt.client_cert;
    expect(cert).toMatchObject({ subject: 'CN=bridge-client', expiring_soon: false });
    expect(cert.expires_in_s).toBeGreaterThan(29 * 86_400);
    const metrics = (await app.app.http.inject({ method: 'GET', url: '/metrics' })).body;
    const expiry = Number(/^oms_bridge_mqtt_client_cert_expiry_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(expiry).toBeGreaterThan(29 * 86_400);
  });

  it('reconnects with the same certificate after the broker restarts', async () => {
    const app = await start({ MQTT_URL: `mqtts://127.0.0.1:${ports.mtls}`, MQTT_CA_FILE: pki.caCert, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey });
    await waitUntil(async () => (await health(app)).mqtt.connected === true);
    await sub!.close();
    sub = undefined;
    await stopBroker();
    await waitUntil(async () => (await health(app)).mqtt.connected === false);
    await startBroker();
    sub = await Collector.connect(plainUrl(), [`oms/v1/gw/${app.gatewayId}/#`]);
    const id = await send(app);
    await sub.waitFor(() => readings().some((m) => m.json.ingest_id === id), 15_000);
    expect(tlsFailureLines(app)).toEqual([]);
  });

  it('mutual TLS without a client certificate: the bridge says the broker refused it', async () => {
    const app = await start({ MQTT_URL: `mqtts://127.0.0.1:${ports.mtls}`, MQTT_CA_FILE: pki.caCert });
    await waitUntil(() => tlsFailureLines(app).length > 0);
    expect(tlsFailureLines(app)[0]).toContain('client_certificate_rejected');
    expect((await health(app)).mqtt).toMatchObject({ connected: false, tls_failure: 'client_certificate_rejected' });
  });

  it('wrong CA: one clear error per outage, no crash; telegrams wait in the outbox and arrive after a restart with the right CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-tls-app-'));
    dirs.push(dir);
    const url = `mqtts://127.0.0.1:${ports.tls}`;
    const first = await start({ MQTT_URL: url, MQTT_CA_FILE: pki.otherCaCert }, { dir });
    const ids = [await send(first), await send(first), await send(first)];
    await waitUntil(async () => (await health(first)).outbox.depth >= 3);
    // Reconnects start at 500 ms and double: by 3.6 s there were at least 3 more attempts.
    await waitUntil(() => first.logs.some((l) => l.includes('MQTT TLS handshake failed again')), 8_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const lines = tlsFailureLines(first);
    const repeats = first.logs.filter((l) => l.includes('MQTT TLS handshake failed again')).length;
    console.log(`wrong CA: 1 error line for ${repeats + 1} handshake errors reported by MQTT.js`);
    expect(repeats).toBeGreaterThanOrEqual(2);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', reason: 'unknown_ca' });
    expect(lines[0]).toContain('MQTT_CA_FILE');
    const h = await health(first);
    expect(h.mqtt).toMatchObject({ connected: false, tls_failure: 'unknown_ca' });
    expect(h.status).toBe('degraded');
    expect(readings()).toEqual([]);
    await first.stop();
    t = undefined;

    const second = await start({ MQTT_URL: url, MQTT_CA_FILE: pki.caCert }, { dir, gatewayId: first.gatewayId });
    await sub!.waitFor(() => ids.every((id) => readings().some((m) => m.json.ingest_id === id)));
    await waitUntil(async () => (await health(second)).outbox.depth === 0);
  });

  it('MQTT_TLS_SERVERNAME is the name checked: a wrong one fails as hostname_mismatch, localhost passes', async () => {
    const url = `mqtts://127.0.0.1:${ports.tls}`;
    const wrong = await start({ MQTT_URL: url, MQTT_CA_FILE: pki.caCert, MQTT_TLS_SERVERNAME: 'wrong.example' });
    await waitUntil(() => tlsFailureLines(wrong).length > 0);
    expect(JSON.parse(tlsFailureLines(wrong)[0]!)).toMatchObject({ reason: 'hostname_mismatch' });
    await wrong.stop();
    t = undefined;
    const right = await start({ MQTT_URL: url, MQTT_CA_FILE: pki.caCert, MQTT_TLS_SERVERNAME: 'localhost' }, { gatewayId: wrong.gatewayId });
    const id = await send(right);
    await sub!.waitFor(() => readings().some((m) => m.json.ingest_id === id));
  });

  it('MQTT_TLS_INSECURE connects despite an unknown CA and warns at start', async () => {
    const app = await start({ MQTT_URL: `mqtts://127.0.0.1:${ports.tls}`, MQTT_CA_FILE: pki.otherCaCert, MQTT_TLS_INSECURE: 'true' });
    const id = await send(app);
    await sub!.waitFor(() => readings().some((m) => m.json.ingest_id === id));
    expect(app.logs.some((l) => l.includes('MQTT_TLS_INSECURE=true') && l.includes('"level":"warn"'))).toBe(true);
  });

  it('wss:// (MQTT over WebSockets) uses the CA and MQTT_TLS_SERVERNAME too', async () => {
    const wsBroker = new WssBroker(pki.serverCert, pki.serverKey);
    await wsBroker.start();
    try {
      const url = `wss://127.0.0.1:${wsBroker.wssPort}/mqtt`;
      const wrong = await startTestApp({ MQTT_URL: url, MQTT_CA_FILE: pki.caCert, MQTT_TLS_SERVERNAME: 'wrong.example' });
      t = wrong;
      await waitUntil(() => tlsFailureLines(wrong).length > 0);
      expect(JSON.parse(tlsFailureLines(wrong)[0]!)).toMatchObject({ reason: 'hostname_mismatch' });
      await wrong.stop();
      t = await startTestApp({ MQTT_URL: url, MQTT_CA_FILE: pki.caCert, MQTT_TLS_SERVERNAME: 'localhost' });
      sub = await Collector.connect(`mqtt://127.0.0.1:${wsBroker.tcpPort}`, [`oms/v1/gw/${t.gatewayId}/#`]);
      const id = await send(t);
      await sub.waitFor(() => readings().some((m) => m.json.ingest_id === id));
      await sub.close();
      sub = undefined;
      await t.stop();
      t = undefined;
    } finally {
      await wsBroker.stop();
    }
  });

  it('a missing certificate file stops the process with one line naming the variable', async () => {
    const missing = join(pki.dir, 'missing.pem');
    const bridge = spawnBridge({ APP_ENV: 'test', PORT: '0', MQTT_URL: `mqtts://127.0.0.1:${ports.tls}`, MQTT_CA_FILE: missing, DATABASE_URL: 'sqlite:///:memory:', PIPELINE_THREAD: 'false' });
    expect(await bridge.exited).toBe(2);
    expect(bridge.stderr.join('')).toBe(`config error: MQTT_CA_FILE: cannot read ${missing} (ENOENT)\n`);
  });
});

async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
