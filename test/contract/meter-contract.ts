import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeterSeen } from '../../src/liveness/meter-state.js';
import type { TelegramStore } from '../../src/store/store.js';
import { add, T0, type StoreEnv } from './store-fixtures.js';

const POLICY = { intervals: 3, minMs: 3_600_000 };
const MIN = 60_000;

function seen(meterId: string, at: number, extra: Partial<MeterSeen> = {}): MeterSeen {
  return { meterId, manufacturer: 'ELS', gatewayId: 'gw-1', rssiDbm: -70, at, errorCode: null, error: null, ingestId: `ing-${at}`, ...extra };
}

/** Meter liveness part of the TelegramStore contract (issue 13), run against every store. */
export function meterContract(name: string, makeEnv: () => Promise<StoreEnv>): void {
  describe(`meter liveness contract: ${name}`, () => {
    let env: StoreEnv;
    let store: TelegramStore;

    beforeEach(async () => {
      env = await makeEnv();
      store = await env.open();
    });
    afterEach(async () => {
      await store.stop();
      await env.dispose();
    });

    it('learns the send interval as the median gap, ignores the same transmission heard twice, keeps gateways', async () => {
      expect(await store.recordMeterSeen(seen('m1', T0), POLICY)).toEqual({ back: false, intervalMs: null, latest: true, latestForGateway: true, first: true });
      await store.recordMeterSeen(seen('m1', T0 + 500, { gatewayId: 'gw-2', rssiDbm: -90 }), POLICY);
      await store.recordMeterSeen(seen('m1', T0 + 15 * MIN), POLICY);
      await store.recordMeterSeen(seen('m1', T0 + 30 * MIN), POLICY);
      // One missed telegram (a 30 min gap) does not move the median.
      const r = await store.recordMeterSeen(seen('m1', T0 + 60 * MIN), POLICY);
      expect(r.intervalMs).toBe(15 * MIN);
      const [m] = (await store.listMeters(null, 10, null)).items;
      expect(m).toMatchObject({ meterId: 'm1', status: 'ok', firstSeen: T0, lastSeen: T0 + 60 * MIN, intervalMs: 15 * MIN, staleAt: T0 + 60 * MIN + 3_600_000 });
      expect(m!.gateways.map((g) => g.gatewayId)).toEqual(['gw-1', 'gw-2']);
      expect(m!.gateways[1]).toEqual({ gatewayId: 'gw-2', rssiDbm: -90, at: T0 + 500 });
    });

    it('marks a silent meter stale once, and says it came back on the next telegram', async () => {
      await store.recordMeterSeen(seen('m1', T0), POLICY);
      await store.recordMeterSeen(seen('m2', T0 + 30 * MIN), POLICY);
      expect(await store.markStaleMeters(T0 + 3_600_000 - 1, 100)).toEqual([]);
      const stale = await store.markStaleMeters(T0 + 3_600_000, 100);
      expect(stale.map((m) => m.meterId)).toEqual(['m1']);
      expect(stale[0]!.status).toBe('stale');
      expect(await store.markStaleMeters(T0 + 3_600_000, 100)).toEqual([]);
      expect(await store.countMetersByStatus()).toEqual({ ok: 1, stale: 1, key_problem: 0 });
      expect(await store.recordMeterSeen(seen('m1', T0 + 2 * 3_600_000), POLICY)).toMatchObject({ back: true });
      expect(await store.countMetersByStatus()).toEqual({ ok: 2, stale: 0, key_problem: 0 });
    });

    it('writes the meter_stale events in the same transaction as the status (a stale meter is never selected again)', async () => {
      await store.recordMeterSeen(seen('m-evt', T0), POLICY);
      const stale = await store.markStaleMeters(T0 + 3_600_000, 100);
      expect(stale.map((m) => m.meterId)).toEqual(['m-evt']);
      const rows = await store.claimOutbox(100, T0 + 3_600_000, 'meter-contract', 60_000);
      const events = rows.filter((r) => r.topic === 'oms/v1/bridge/events').map((r) => JSON.parse(r.payload) as Record<string, unknown>);
      expect(events).toEqual([expect.objectContaining({ event: 'meter_stale', meter_id: 'm-evt', last_seen: new Date(T0).toISOString() })]);
      await store.markPublished(rows.map((r) => r.id), T0 + 3_600_000);
    });

    it('writes the meter_back event with the liveness change (a retry of the telegram would find the meter live)', async () => {
      await store.recordMeterSeen(seen('m-back', T0), POLICY);
      await store.markStaleMeters(T0 + 3_600_000, 100);
      const staleRows = await store.claimOutbox(100, T0 + 3_600_000, 'meter-contract', 60_000);
      await store.markPublished(staleRows.map((r) => r.id), T0 + 3_600_000);
      const at = T0 + 2 * 3_600_000;
      expect(await store.recordMeterSeen(seen('m-back', at, { gatewayId: 'gw-9', rssiDbm: -81 }), POLICY)).toMatchObject({ back: true });
      // Heard again before anything else was written: no second event.
      expect(await store.recordMeterSeen(seen('m-back', at), POLICY)).toMatchObject({ back: false });
      const rows = await store.claimOutbox(100, at, 'meter-contract', 60_000);
      expect(rows.map((r) => [r.topic, r.ingestId, r.retain])).toEqual([['oms/v1/bridge/events', null, false]]);
      expect(JSON.parse(rows[0]!.payload)).toEqual({
        schema: 'oms.bridge.v1', event: 'meter_back', at: new Date(at).toISOString(), meter_id: 'm-back', manufacturer: 'ELS',
        gateway_id: 'gw-9', rssi_dbm: -81, ingest_id: `ing-${at}`,
      });
      await store.markPublished(rows.map((r) => r.id), at);
    });

    it('tells whether a telegram is the newest heard from the meter (a late one must not replace retained state)', async () => {
      expect(await store.recordMeterSeen(seen('m-order', T0 + 10 * MIN), POLICY)).toMatchObject({ latest: true });
      expect(await store.recordMeterSeen(seen('m-order', T0), POLICY)).toMatchObject({ latest: false });
      // The same instant from another gateway, and anything newer, is the latest.
      expect(await store.recordMeterSeen(seen('m-order', T0 + 10 * MIN, { gatewayId: 'gw-2' }), POLICY)).toMatchObject({ latest: true });
      expect(await store.recordMeterSeen(seen('m-order', T0 + 20 * MIN), POLICY)).toMatchObject({ latest: true });
      expect(await store.recordMeterSeen(seen('m-order', T0 + 15 * MIN), POLICY)).toMatchObject({ latest: false });
      expect((await store.getMeter('m-order'))?.lastSeen).toBe(T0 + 20 * MIN);
      // Per gateway: gw-2 last sent at T0 + 10 min, so its own T0 + 12 min is its latest though not the meter's.
      expect(await store.recordMeterSeen(seen('m-order', T0 + 12 * MIN, { gatewayId: 'gw-2' }), POLICY)).toMatchObject({ latest: false, latestForGateway: true, first: false });
      expect(await store.recordMeterSeen(seen('m-order', T0 + 11 * MIN, { gatewayId: 'gw-2' }), POLICY)).toMatchObject({ latest: false, latestForGateway: false });
      expect((await store.getMeter('m-order'))?.gateways).toEqual([
        { gatewayId: 'gw-1', rssiDbm: -70, at: T0 + 20 * MIN }, { gatewayId: 'gw-2', rssiDbm: -70, at: T0 + 12 * MIN },
      ]);
    });

    it('a late telegram of a stale meter (a gateway backlog) neither brings it back nor changes its status or last error', async () => {
      await store.recordMeterSeen(seen('m-late', T0 + 30 * MIN), POLICY);
      await store.markStaleMeters(T0 + 30 * MIN + 3_600_000, 100);
      const staleRows = await store.claimOutbox(100, T0 + 2 * 3_600_000, 'meter-contract', 60_000);
      await store.markPublished(staleRows.map((r) => r.id), T0 + 2 * 3_600_000);
      const late = await store.recordMeterSeen(seen('m-late', T0, { errorCode: 'decrypt_failed', error: 'wrong key' }), POLICY);
      expect(late).toMatchObject({ back: false, latest: false });
      expect(await store.getMeter('m-late')).toMatchObject({ status: 'stale', lastSeen: T0 + 30 * MIN, lastErrorCode: null, gaps: [] });
      expect(await store.claimOutbox(100, T0 + 2 * 3_600_000, 'meter-contract', 60_000)).toEqual([]);
      // A new telegram does.
      expect(await store.recordMeterSeen(seen('m-late', T0 + 3 * 3_600_000), POLICY)).toMatchObject({ back: true, latest: true });
    });

    it('a decrypt failure is a key problem and the last error stays on record; filters and pages by status', async () => {
      await store.recordMeterSeen(seen('a', T0, { errorCode: 'decrypt_key_missing', error: 'no key' }), POLICY);
      for (const id of ['b', 'c', 'd']) await store.recordMeterSeen(seen(id, T0), POLICY);
      await store.recordMeterSeen(seen('c', T0 + MIN, { errorCode: 'parse_failed', error: 'bad CRC' }), POLICY);
      const problems = await store.listMeters('key_problem', 10, null);
      expect(problems.items.map((m) => [m.meterId, m.lastErrorCode, m.lastError])).toEqual([['a', 'decrypt_key_missing', 'no key']]);
      const first = await store.listMeters('ok', 2, null);
      expect(first.items.map((m) => m.meterId)).toEqual(['b', 'c']);
      expect(first.items[1]).toMatchObject({ status: 'ok', lastErrorCode: 'parse_failed' });
      const second = await store.listMeters('ok', 2, first.nextCursor);
      expect(second.items.map((m) => m.meterId)).toEqual(['d']);
      expect(second.nextCursor).toBeNull();
      expect(await store.deleteMeter('d')).toBe(true);
      expect(await store.deleteMeter('d')).toBe(false);
    });

    it('searches meters by id prefix (literally: _ is no wildcard), with status and paging', async () => {
      for (const id of ['1234_1', '1234_2', '12340', '1235', 'x1234']) await store.recordMeterSeen(seen(id, T0), POLICY);
      await store.recordMeterSeen(seen('1234_3', T0, { errorCode: 'decrypt_failed', error: 'wrong key' }), POLICY);
      expect((await store.listMeters(null, 10, null, '1234')).items.map((m) => m.meterId)).toEqual(['12340', '1234_1', '1234_2', '1234_3']);
      expect((await store.listMeters(null, 10, null, '1234_')).items.map((m) => m.meterId)).toEqual(['1234_1', '1234_2', '1234_3']);
      expect((await store.listMeters('key_problem', 10, null, '1234')).items.map((m) => m.meterId)).toEqual(['1234_3']);
      const first = await store.listMeters('ok', 2, null, '1234');
      expect(first.items.map((m) => m.meterId)).toEqual(['12340', '1234_1']);
      expect((await store.listMeters('ok', 2, first.nextCursor, '1234')).items.map((m) => m.meterId)).toEqual(['1234_2']);
      expect((await store.listMeters(null, 10, null, 'nope')).items).toEqual([]);
    });

    it('readings: the newest done telegram per meter, and a meter\'s readings by time window, newest first', async () => {
      const reading = (v: number) => JSON.stringify({ values: [{ name: 'volume', value: v, unit: 'm^3' }] });
      const finish = async (status: 'done' | 'error', parsed: string, now: number) => {
        const [job] = await store.claimJobs(1, now, 'w', 60_000);
        await store.finishJob(job!, { status, attempts: 1, errorCode: status === 'error' ? 'parse_failed' : null, lastError: null, parsedJson: parsed, messages: [], now });
      };
      const at = [T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + 4_000];
      await add(store, { meterId: 'r1', createdAt: at[0] });
      await finish('done', reading(1), at[0]!);
      await add(store, { meterId: 'r1', createdAt: at[1] });
      await finish('done', reading(2), at[1]!);
      await add(store, { meterId: 'r1', createdAt: at[2] });
      await finish('error', '{"error":{}}', at[2]!);
      await add(store, { meterId: 'r2', createdAt: at[3] });
      await finish('done', reading(9), at[3]!);
      await add(store, { meterId: 'r1', createdAt: at[3] }); // still queued: no reading

      const latest = await store.latestReadings(['r1', 'r2', 'nobody']);
      expect(latest.map((r) => [r.meterId, r.at, r.parsed])).toEqual([
        ['r1', at[1], JSON.parse(reading(2))],
        ['r2', at[3], JSON.parse(reading(9))],
      ]);
      expect(latest[0]!.ingestId).toEqual(expect.any(String));
      expect(await store.latestReadings([])).toEqual([]);

      expect((await store.listReadings('r1', null, null, 10)).map((r) => r.at)).toEqual([at[1], at[0]]);
      expect((await store.listReadings('r1', null, null, 1)).map((r) => r.at)).toEqual([at[1]]);
      expect((await store.listReadings('r1', at[1]!, null, 10)).map((r) => r.at)).toEqual([at[1]]);
      expect((await store.listReadings('r1', null, at[1]!, 10)).map((r) => r.at)).toEqual([at[0]]);
      expect(await store.listReadings('nobody', null, null, 10)).toEqual([]);
    });

    it('matches meter ids against liveness, the keys-needed list and stored keys, in order, duplicates kept', async () => {
      await store.recordMeterSeen(seen('heard', T0), POLICY);
      await store.recordMeterSeen(seen('broken', T0, { errorCode: 'decrypt_failed', error: 'wrong key' }), POLICY);
      await store.putMeterKey('broken', 'sealed-key', 'ELS', T0);
      await store.recordKeyProblem({ meterId: 'wanted', manufacturer: 'KAM', gatewayId: 'gw-1', problem: 'key_missing', detail: 'no key', now: T0 });
      await store.recordKeyProblem({ meterId: 'typo', manufacturer: 'KAM', gatewayId: 'gw-1', problem: 'wrong_key', detail: 'no 2F2F', now: T0 });
      const m = await store.matchMeters(['wanted', 'heard', 'nobody', 'broken', 'typo', 'heard']);
      expect(m).toEqual([
        { meterId: 'wanted', status: null, keyProblem: 'key_missing', hasKey: false },
        { meterId: 'heard', status: 'ok', keyProblem: null, hasKey: false },
        { meterId: 'nobody', status: null, keyProblem: null, hasKey: false },
        { meterId: 'broken', status: 'key_problem', keyProblem: null, hasKey: true },
        { meterId: 'typo', status: null, keyProblem: 'wrong_key', hasKey: false },
        { meterId: 'heard', status: 'ok', keyProblem: null, hasKey: false },
      ]);
      expect(await store.matchMeters([])).toEqual([]);
      const many = Array.from({ length: 2_000 }, (_, i) => `bulk-${i}`);
      expect((await store.matchMeters(many)).map((x) => x.meterId)).toEqual(many);
    });

    it('enqueues messages that are not tied to a telegram', async () => {
      await store.enqueueMessages([{ ingestId: null, kind: 'status', topic: 'oms/v1/bridge/events', payload: '{"event":"meter_stale"}', qos: 1, retain: false }], T0);
      const rows = await store.claimOutbox(10, T0, 'me', 1_000);
      expect(rows).toMatchObject([{ ingestId: null, topic: 'oms/v1/bridge/events', payload: '{"event":"meter_stale"}', retain: false }]);
    });
  });
}
