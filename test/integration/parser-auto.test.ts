import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { FakeLobaro, okDomainModel } from '../helpers/fake-lobaro.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';
import { validateReading } from '../helpers/schemas.js';

describe('PARSER=auto: Lobaro first, the built-in decoder when Lobaro cannot answer', () => {
  let broker: TestBroker;
  let lobaro: FakeLobaro;
  let t: TestApp;
  let mqtt: Collector;
  let n = 0;
  /** The OMS example again (ENABLE_DEDUP=false makes each post a new job), with its own meter hint. */
  const send = async () => {
    n += 1;
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY, meter_hint: { meter_id: `m-${n}` } });
    return res.json.ingest_id as string;
  };
  const reading = async (id: string) => {
    await mqtt.waitFor((m) => m.some((x) => x.json.ingest_id === id && x.topic.endsWith('/reading')), 10_000);
    return mqtt.messages.find((x) => x.json.ingest_id === id && x.topic.endsWith('/reading'))!;
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    lobaro = new FakeLobaro();
    t = await startTestApp({
      MQTT_URL: broker.url, PARSER: 'auto', LOBARO_TOKEN: 'tok-auto', LOBARO_BASE_URL: await lobaro.start(),
      LOBARO_AUTH_PAUSE_S: '30', LOBARO_TIMEOUT_S: '0.3', ENABLE_DEDUP: 'false',
    });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
  });
  afterAll(async () => {
    await mqtt.close();
    await t.stop();
    await lobaro.stop();
    await broker.stop();
  });

  it('uses Lobaro while it answers', async () => {
    lobaro.behaviour = okDomainModel;
    const r = await reading(await send());
    expect(r.json.parser).toBe('lobaro');
  });

  it('falls back to local after Lobaro\'s last retry failed', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status: 503 });
    const r = await reading(await send());
    expect(lobaro.requests).toHaveLength(3);
    expect(r.json).toMatchObject({ parser: 'local', meter: { id: '12345678', manufacturer: 'ELS' }, local: { wmbus: { IdString: '12345678' } } });
    expect(validateReading(r.json), JSON.stringify(validateReading.errors)).toBe(true);
  });

  it('decodes locally while the Lobaro circuit is open, without calling Lobaro', async () => {
    lobaro.requests.length = 0;
    lobaro.behaviour = () => ({ status: 401 });
    const first = await reading(await send());
    expect(first.json.parser).toBe('local');
    const calls = lobaro.requests.length;
    const more = await Promise.all([send(), send(), send()].map(async (p) => reading(await p)));
    expect(more.every((m) => m.json.parser === 'local')).toBe(true);
    expect(lobaro.requests.length).toBe(calls);
    expect(JSON.stringify(more[0]!.json.values)).toContain('28504.27');
  });
});
