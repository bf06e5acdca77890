import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { GLOBAL_KEY, GW_KEY, post, startTestApp } from '../helpers/app.js';
import { FakeLobaro, okDomainModel } from '../helpers/fake-lobaro.js';
import { KillableBroker } from '../helpers/killable-broker.js';
import { deliveries, PLAIN, runLoad, uniqueTelegram } from '../helpers/load.js';
import { Collector, startTestBroker } from '../helpers/mqtt.js';
import { freePort } from '../helpers/process.js';

describe('faults', () => {
  it('broker outage under load: degraded but accepting, backlog in the outbox, nothing lost, status online again', async () => {
    const broker = new KillableBroker(await freePort());
    await broker.start();
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', LOG_LEVEL: 'info', PIPELINE_THREAD: 'true' });
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`, 'oms/v1/bridge/status']);
    let stop = false;
    const load = runLoad({ baseUrl: t.app.url, key: GLOBAL_KEY, gatewayId: t.gatewayId, concurrency: 2, pauseMs: 5, stop: () => stop });
    try {
      await new Promise((r) => setTimeout(r, 800));
      await broker.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      const during = (await t.app.http.inject({ method: 'GET', url: '/healthz' })).json();
      expect(during).toMatchObject({ status: 'degraded', mqtt: { connected: false } });
      expect(during.outbox.depth).toBeGreaterThan(0);
      expect((await t.app.http.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const statusCount = mqtt.messages.filter((m) => m.topic === 'oms/v1/bridge/status').length;
      await broker.start();
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      const { accepted, statuses } = await load;
      expect(statuses.get('error') ?? 0).toBe(0);
      expect(accepted.length).toBeGreaterThan(20); // accepting throughout (a loaded CI machine sends fewer)
      await mqtt.waitFor((msgs) => {
        const d = deliveries(msgs);
        return accepted.every((id) => d.has(id));
      }, 30_000);
      await mqtt.waitFor((msgs) => msgs.slice(statusCount).some((m) => m.topic === 'oms/v1/bridge/status' && m.payload === 'online'));
      await t.app.http.inject({ method: 'GET', url: '/healthz' }).then((r) => expect(r.json().mqtt.connected).toBe(true));
      console.log(`broker outage (${broker.kind}): accepted ${accepted.length}, outbox peak seen ${during.outbox.depth}`);
    } finally {
      stop = true;
      await load;
      await mqtt.close();
      await t.stop();
      await broker.stop();
    }
  }, 60_000);

  it.each([429, 503])('%i storm with Retry-After: calls respect the pause, no attempt used, every telegram ends as a reading', async (stormStatus) => {
    const broker = await startTestBroker();
    const lobaro = new FakeLobaro();
    const calls: Array<{ at: number; status: number }> = [];
    let stormUntil: number | undefined;
    lobaro.behaviour = (req, n) => {
      stormUntil ??= Date.now() + 2_500;
      const status = Date.now() < stormUntil ? stormStatus : 200;
      calls.push({ at: Date.now(), status });
      return status === stormStatus ? { status, headers: { 'retry-after': '1' } } : okDomainModel(req, n);
    };
    // One attempt per telegram: a rejection that used it would end the telegram as an error (issue 10).
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: await lobaro.start(), N_WORKERS: '8', LOBARO_MAX_ATTEMPTS: '1' });
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await post(t.app, { gateway_id: t.gatewayId, raw_hex: uniqueTelegram(i, 7) })).json.ingest_id);
      await mqtt.waitFor((msgs) => ids.every((id) => msgs.some((m) => m.json.ingest_id === id && (m.topic.endsWith('/reading') || m.topic.includes('/errors/')))), 20_000);
      expect(mqtt.messages.filter((m) => m.topic.includes('/errors/')).map((m) => m.json.error)).toEqual([]);
      const limited = calls.filter((c) => c.status === stormStatus);
      expect(limited.length).toBeGreaterThan(0);
      // The first answers of the storm reach the bridge late on a loaded machine, while
      // telegrams still trickle in and go out; from the first probe on the pause holds.
      for (const c of limited.filter((l) => l.at >= limited[0]!.at + 900)) {
        // After a 429 with Retry-After: 1, nothing new goes out for a second (requests already
        // in flight when the 429 arrived may land within a few ms of it).
        const early = calls.filter((o) => o.at > c.at + 100 && o.at < c.at + 950);
        expect(early.map((o) => o.at - c.at)).toEqual([]);
      }
      // At most one burst of N_WORKERS concurrent calls at the start, then one probe per pause.
      expect(limited.length).toBeLessThanOrEqual(8 + 4);
      console.log(`${stormStatus} storm: ${calls.length} calls, ${limited.length} answered ${stormStatus}`);
    } finally {
      await mqtt.close();
      await t.stop();
      await lobaro.stop();
      await broker.stop();
    }
  }, 40_000);

  it('slow parser with a full queue: 503 with Retry-After, never hangs', async () => {
    const broker = await startTestBroker();
    const lobaro = new FakeLobaro();
    lobaro.behaviour = (req, n) => ({ ...okDomainModel(req, n), delayMs: 2_000 });
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: await lobaro.start(), N_WORKERS: '2', QUEUE_MAX: '20' });
    try {
      const started = Date.now();
      const { statuses } = await runLoad({ baseUrl: t.app.url, key: GLOBAL_KEY, gatewayId: t.gatewayId, concurrency: 8, count: 400, salt: 3 });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(statuses.get(202)).toBe(20);
      expect(statuses.get(503)).toBe(380);
      const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: uniqueTelegram(999, 3) });
      expect(res.status).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.stop();
      await lobaro.stop();
      await broker.stop();
    }
  }, 40_000);

  it('bad input flood mixed into valid load: every bad request gets its 4xx, every valid telegram comes through', async () => {
    const broker = await startTestBroker();
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', QUEUE_MAX: '100000' });
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
    const gw = t.gatewayId;
    const bad: Array<{ expect: number; headers: Record<string, string>; body: string }> = [
      { expect: 400, headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' }, body: '{"gateway_id":' },
      { expect: 413, headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ gateway_id: gw, raw_hex: PLAIN, mode: 'x'.repeat(70_000) }) },
      { expect: 400, headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ gateway_id: 42, raw_hex: PLAIN }) },
      { expect: 400, headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ gateway_id: gw, raw_hex: 'xyz' }) },
      { expect: 401, headers: { authorization: 'Bearer nope-nope-nope', 'content-type': 'application/json' }, body: JSON.stringify({ gateway_id: gw, raw_hex: PLAIN }) },
      { expect: 401, headers: { 'content-type': 'application/json' }, body: '{}' },
      { expect: 403, headers: { authorization: `Bearer ${GW_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ gateway_id: 'not-mine', raw_hex: PLAIN }) },
      { expect: 415, headers: { authorization: `Bearer ${GLOBAL_KEY}`, 'content-type': 'application/xml' }, body: '<telegram/>' },
    ];
    try {
      const mismatches: string[] = [];
      let nBad = 0;
      const badLoad = async () => {
        for (let i = 0; i < 250; i++) {
          for (const b of bad) {
            const res = await request(`${t.app.url}/v1/telegrams`, { method: 'POST', headers: b.headers, body: b.body });
            const text = await res.body.text();
            nBad += 1;
            if (res.statusCode !== b.expect || !text.includes('"error"')) mismatches.push(`${b.expect} → ${res.statusCode}`);
          }
        }
      };
      const [good] = await Promise.all([
        runLoad({ baseUrl: t.app.url, key: GLOBAL_KEY, gatewayId: gw, concurrency: 4, count: 300, salt: 5 }),
        badLoad(), badLoad(),
      ]);
      expect(nBad).toBe(4_000);
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(good.statuses.get(202)).toBe(300);
      await mqtt.waitFor((msgs) => {
        const d = deliveries(msgs);
        return good.accepted.every((id) => d.has(id));
      }, 30_000);
      expect((await t.app.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await mqtt.close();
      await t.stop();
      await broker.stop();
    }
  }, 60_000);
});
