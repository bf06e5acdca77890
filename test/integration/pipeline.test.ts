import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro, okDomainModel } from '../helpers/fake-lobaro.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

describe('pipeline with Lobaro: key policies, sync, mappings', () => {
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let base: string;
  let t: TestApp | undefined;
  let mqtt: Collector | undefined;

  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    base = await lobaro.start();
  });
  afterEach(async () => {
    await mqtt?.close();
    await t?.stop();
    mqtt = undefined;
    t = undefined;
  });
  afterAll(async () => {
    await lobaro.stop();
    await broker.stop();
  });

  async function start(env: Record<string, string> = {}) {
    lobaro.requests.length = 0;
    lobaro.behaviour = okDomainModel;
    t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok-abc-123', LOBARO_BASE_URL: base, ...env });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
    return t;
  }
  const final = async (ingestId: string) => {
    await mqtt!.waitFor((m) => m.some((x) => x.json.ingest_id === ingestId && !x.topic.includes('/raw/')));
    return mqtt!.messages.find((x) => x.json.ingest_id === ingestId && !x.topic.includes('/raw/'))!;
  };

  it('strict: an encrypted telegram without any key ends as decrypt_key_missing without calling Lobaro', async () => {
    const app = await start({ KEY_POLICY: 'strict' });
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE });
    const err = await final(res.json.ingest_id);
    expect(err.topic).toBe(`oms/v1/gw/${app.gatewayId}/errors/${res.json.ingest_id}`);
    expect(err.json).toMatchObject({ error: { code: 'decrypt_key_missing', attempts: 1 }, meter: { id: '12345678', manufacturer: 'ELS' } });
    expect(lobaro.requests).toHaveLength(0);
  });

  it('lenient: the telegram goes to Lobaro without a key', async () => {
    const app = await start({ KEY_POLICY: 'lenient' });
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE });
    expect((await final(res.json.ingest_id)).topic).toMatch(/\/reading$/);
    expect(lobaro.requests).toHaveLength(1);
    expect(lobaro.requests[0]!.query.has('key')).toBe(false);
  });

  it('uses the key sent with the telegram, then forgets it; never echoes it', async () => {
    const app = await start();
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY.toLowerCase() });
    expect(JSON.stringify(res.json)).not.toContain(OMS_KEY.toLowerCase());
    const reading = await final(res.json.ingest_id);
    expect(lobaro.requests[0]!.query.get('key')).toBe(OMS_KEY);
    for (const m of mqtt!.messages) expect(m.payload.toLowerCase()).not.toContain(OMS_KEY.toLowerCase());
    expect(reading.topic).toMatch(/\/reading$/);
    const rec = await app.app.store.getTelegram(res.json.ingest_id);
    expect(rec?.status).toBe('done');
    expect(JSON.stringify(rec).toLowerCase()).not.toContain(OMS_KEY.toLowerCase());
  });

  it('falls back to the key store by meter id', async () => {
    const app = await start();
    await app.app.store.putMeterKey('12345678', OMS_KEY, 'ELS', Date.now());
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE });
    await final(res.json.ingest_id);
    expect(lobaro.requests[0]!.query.get('key')).toBe(OMS_KEY);
  });

  it('meter_hint.meter_id wins over the header id for the key lookup and the topic', async () => {
    const app = await start();
    await app.app.store.putMeterKey('hint-1', OMS_KEY, null, Date.now());
    lobaro.behaviour = () => ({ status: 200, body: { type: 'GasMeterReading', currentValue: { value: 1, unit: 'm^3' } } });
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, meter_hint: { meter_id: 'hint-1' } });
    const reading = await final(res.json.ingest_id);
    expect(reading.topic).toBe(`oms/v1/gw/${app.gatewayId}/meter/hint-1/reading`);
    expect(lobaro.requests[0]!.query.get('key')).toBe(OMS_KEY);
  });

  it('?sync=true answers 200 with the payload that was published', async () => {
    const app = await start();
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY }, { query: '?sync=true' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ schema: 'oms.bridge.v1', parser: 'lobaro', values: [{ name: 'currentValue' }] });
    const again = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY }, { query: '?sync=true' });
    expect(again.status).toBe(200);
    expect(again.json.ingest_id).toBe(res.json.ingest_id);
  });

  it('sends the mapping file as the body and picks up edits without restart', async () => {
    const app = await start();
    const file = join(app.dir, 'domainMappings.json');
    const mapping = { comment: 'gas', filter: { manafacture: 'ELS' }, gas: { currentValueIdx: 0 } };
    writeFileSync(file, JSON.stringify({ mappings: [mapping] }));
    await new Promise((r) => setTimeout(r, 1_300));
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY });
    await final(res.json.ingest_id);
    expect(JSON.parse(lobaro.requests[0]!.body)).toEqual({ mappings: [mapping] });
  });

  it('LOBARO_API=mbus calls /api/mbus without a body and normalizes the wMbus JSON', async () => {
    const app = await start({ LOBARO_API: 'mbus' });
    lobaro.behaviour = () => ({
      status: 200,
      body: {
        IdString: '12345678', MFieldCodeString: 'ELS', Version: 51, Device: '0x03',
        Body: { DecryptionFailed: false, DataRecords: [{ VifQuantity: 'Volume', VifUnit: 'm^3', ValueScaled: 28504.27, ValueString: '28504.27', StorageNo: 0, Tariff: 0, DifSubunit: 0, DifFunctionString: 'Current Value', DifVif: '0x0c14', Data: '0x27048502', Value: 2850427, VifExponent: 0.01 }] },
      },
    });
    const res = await post(app.app, { gateway_id: app.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY });
    const reading = await final(res.json.ingest_id);
    expect(lobaro.requests[0]!.path).toBe('/api/mbus');
    expect(lobaro.requests[0]!.body).toBe('');
    expect(reading.json).toMatchObject({ meter: { id: '12345678', device_type: 3 }, lobaro: { wmbus: { IdString: '12345678' } } });
    expect((reading.json.values as Array<{ value: unknown; unit: string }>)[0]).toMatchObject({ value: 28504.27, unit: 'm^3' });
  });
});
