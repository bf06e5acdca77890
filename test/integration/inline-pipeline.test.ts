import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** PIPELINE_THREAD=false: the same pipeline on the HTTP event loop. */
describe('inline pipeline', () => {
  let broker: TestBroker;
  let t: TestApp;
  let mqtt: Collector;
  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({ MQTT_URL: broker.url, PIPELINE_THREAD: 'false', ENABLE_DEDUP: 'false' });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
  });
  afterAll(async () => {
    await mqtt.close();
    await t.stop();
    await broker.stop();
  });

  it('decodes and publishes, and reports its state in /healthz', async () => {
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY }, { query: '?sync=true' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ parser: 'local', meter: { id: '12345678' } });
    await mqtt.waitFor((m) => m.some((x) => x.topic.endsWith('/meter/12345678/reading')));
    const health = (await t.app.http.inject({ method: 'GET', url: '/healthz' })).json();
    expect(health).toMatchObject({ status: 'ok', mqtt: { connected: true }, pipeline: { running: true, thread: false } });
  });

  it('a missing key ends as decrypt_key_missing', async () => {
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, meter_hint: { meter_id: 'inline-1' } });
    await mqtt.waitFor((m) => m.some((x) => x.topic.endsWith(`/errors/${res.json.ingest_id}`)));
    expect(mqtt.messages.find((x) => x.topic.endsWith(`/errors/${res.json.ingest_id}`))?.json.error).toMatchObject({ code: 'decrypt_key_missing' });
  });
});
