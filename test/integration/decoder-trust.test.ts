import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro, okDomainModel } from '../helpers/fake-lobaro.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** The README meter's header (ELS 12345678, mode 5) over a plaintext body with a made-up volume of 999999.99 m³. */
const FORGED = '2e4493157856341233037a2a0020052f2f0c1499999999046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f';

/** An unencrypted water meter (DME 11223344): a full frame, then compact frames (CI 79) of the same format. */
const FULL = '2544a5114433221101077803' + '06EB24004306E723000314285E00426CBF2C022D030001FF2100';
const COMPACT = '1c44a51144332211010779e7f1a3fced2400e723002e5e00bf2c0d0000';
/** A format frame claiming the real format's signature (F1E7) for bytes with VIF 15 instead of 14: the volume at 10×. */
const POISON = '1a44a51144332211010769' + '0de7f1' + '030643060315426C022D01FF21';

describe('decoder trust (built-in decoder)', () => {
  let broker: TestBroker;
  let t: TestApp | undefined;
  let mqtt: Collector | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterEach(async () => {
    await mqtt?.close();
    await t?.stop();
    mqtt = undefined;
    t = undefined;
  });
  afterAll(async () => {
    await broker.stop();
  });

  async function start(env: Record<string, string> = {}): Promise<TestApp> {
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', ENABLE_DEDUP: 'false', N_WORKERS: '1', PIPELINE_THREAD: 'false', ...env });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
    return t;
  }

  /** Posts with ?sync=true and answers the payload that was published for it. */
  async function run(app: TestApp, body: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await post(app.app, { gateway_id: app.gatewayId, ...body }, { query: '?sync=true' });
    expect(res.status).toBe(200);
    return res.json;
  }

  const readings = () => mqtt!.messages.filter((m) => m.topic.endsWith('/reading'));

  it('a forged plaintext frame of a meter with a stored key is decrypt_failed (unexpected_plaintext), never a reading', async () => {
    const app = await start();
    await app.app.store.putMeterKey('12345678', OMS_KEY, 'ELS', Date.now());
    const out = await run(app, { raw_hex: FORGED });
    expect(out.error).toMatchObject({ code: 'decrypt_failed', reason: 'unexpected_plaintext' });
    expect(out.values).toBeUndefined();
    // The real telegram of the same meter still decodes, and says it was authenticated.
    const real = await run(app, { raw_hex: OMS_EXAMPLE });
    expect(real).toMatchObject({ authenticated: true });
    expect(real.values[0]).toMatchObject({ name: 'volume', value: 28504.27 });
    await mqtt!.waitFor(() => readings().length === 1);
    expect(JSON.stringify(readings())).not.toContain('999999.99');
  });

  it('a forged frame with a key in the request is decrypt_failed; without any key it is decrypt_key_missing', async () => {
    const app = await start();
    expect((await run(app, { raw_hex: FORGED, key_hex: OMS_KEY })).error).toMatchObject({ code: 'decrypt_failed', reason: 'unexpected_plaintext' });
    expect((await run(app, { raw_hex: FORGED })).error).toMatchObject({ code: 'decrypt_key_missing' });
    expect(readings()).toHaveLength(0);
  });

  it('KEY_POLICY=lenient does not let a plaintext body through either', async () => {
    const app = await start({ KEY_POLICY: 'lenient' });
    expect((await run(app, { raw_hex: FORGED })).error).toMatchObject({ code: 'decrypt_key_missing' });
  });

  it('ACCEPT_PREDECRYPTED=true takes lab data, marked "authenticated": false', async () => {
    // In the pipeline thread: the setting has to reach it.
    const app = await start({ ACCEPT_PREDECRYPTED: 'true', PIPELINE_THREAD: 'true' });
    const out = await run(app, { raw_hex: FORGED });
    expect(out.authenticated).toBe(false);
    expect(out.values[0]).toMatchObject({ name: 'volume', value: 999999.99 });
    // A real telegram with its key is still decrypted, not taken as plaintext.
    expect(await run(app, { raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY })).toMatchObject({ authenticated: true });
  });

  it('a format frame cannot poison the compact-frame cache; a compact frame that does not fit is parse_failed', async () => {
    const app = await start();
    expect(await run(app, { raw_hex: FULL })).toMatchObject({ authenticated: false, values: expect.any(Array) });
    const poison = await run(app, { raw_hex: POISON });
    expect(poison.error).toMatchObject({ code: 'parse_failed' });
    expect(poison.error.message).toContain('signature');
    const compact = await run(app, { raw_hex: COMPACT });
    expect(compact.values.find((v: { unit: string }) => v.unit === 'm^3')).toMatchObject({ value: 241.1 });
    const bad = await run(app, { raw_hex: COMPACT.replace('ed2400', 'ee2400') });
    expect(bad.error).toMatchObject({ code: 'parse_failed' });
    expect(bad.values).toBeUndefined();
  });
});

describe('decoder trust (Lobaro parser)', () => {
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let base: string;
  let t: TestApp | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    base = await lobaro.start();
    lobaro.behaviour = okDomainModel;
  });
  afterAll(async () => {
    await t?.stop();
    await lobaro.stop();
    await broker.stop();
  });

  it('a forged plaintext frame never reaches Lobaro; a real one goes with its key and is authenticated', async () => {
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok-abc-123', LOBARO_BASE_URL: base, ENABLE_DEDUP: 'false' });
    await t.app.store.putMeterKey('12345678', OMS_KEY, 'ELS', Date.now());
    const forged = await post(t.app, { gateway_id: t.gatewayId, raw_hex: FORGED }, { query: '?sync=true' });
    expect(forged.json.error).toMatchObject({ code: 'decrypt_failed', reason: 'unexpected_plaintext' });
    expect(lobaro.requests).toHaveLength(0);
    const real = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE }, { query: '?sync=true' });
    expect(real.json).toMatchObject({ parser: 'lobaro', authenticated: true });
    expect(lobaro.requests).toHaveLength(1);
  });
});
