import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_MISSING_GATEWAYS_MAX, KEY_PROBLEM_DETAIL_MAX, type NewTelegram, type TelegramStore } from '../../src/store/store.js';

import { batchContract } from './batch-contract.js';
import { add, finishAll, rawMessage, T0, telegram, walk, type StoreEnv } from './store-fixtures.js';

/** A key_missing report as the key resolver makes it. */
function missing(store: TelegramStore, meterId: string, manufacturer: string | null, gatewayId: string, now: number): Promise<void> {
  return store.recordKeyProblem({ meterId, manufacturer, gatewayId, problem: 'key_missing', detail: 'no key', now });
}

export type { StoreEnv };

/**
 * The TelegramStore contract, run unchanged against every implementation
 * (kysely's one-suite-per-dialect approach). `makeEnv` gives a fresh, empty database.
 */
export function storeContract(name: string, makeEnv: () => Promise<StoreEnv>): void {
  describe(`TelegramStore contract: ${name}`, () => {
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

    batchContract(() => ({ store, env, multiInstance: name === 'PostgreSQL' }));

    it('start and stop are idempotent, ping works while started', async () => {
      await store.start();
      await store.ping();
      await store.stop();
      await store.stop();
      await expect(store.ping()).rejects.toMatchObject({ code: 'store_closed' });
      await store.start();
      await store.ping();
    });

    it('inserts a telegram with its raw message, and dedups repeats inside the window only', async () => {
      const a = telegram({ dedupHash: 'same', createdAt: T0 });
      expect(await store.insertTelegram(a, rawMessage(a), 1_000)).toEqual({ ingestId: a.ingestId, duplicate: false });
      const b = telegram({ dedupHash: 'same', createdAt: T0 + 999 });
      expect(await store.insertTelegram(b, rawMessage(b), 1_000)).toEqual({ ingestId: a.ingestId, duplicate: true });
      expect(await store.getTelegram(b.ingestId)).toBeUndefined();
      const c = telegram({ dedupHash: 'same', createdAt: T0 + 1_000 });
      expect(await store.insertTelegram(c, rawMessage(c), 1_000)).toEqual({ ingestId: c.ingestId, duplicate: false });
      const d = telegram({ dedupHash: 'same', createdAt: T0 + 1_500 });
      expect(await store.insertTelegram(d, rawMessage(d), 1_000)).toEqual({ ingestId: c.ingestId, duplicate: true });
      // Without a window every telegram is new.
      const e = telegram({ dedupHash: 'same', createdAt: T0 + 1_600 });
      expect(await store.insertTelegram(e, rawMessage(e), null)).toEqual({ ingestId: e.ingestId, duplicate: false });
      expect(await store.depths()).toEqual({ queue: 3, outbox: 3, oldestOutboxAt: T0 });
      const rows = await store.claimOutbox(10, T0 + 2_000, 'relay', 10_000);
      expect(rows.map((r) => r.ingestId)).toEqual([a.ingestId, c.ingestId, e.ingestId]);
      expect(rows[0]).toMatchObject({ kind: 'raw', topic: rawMessage(a).topic, payload: '{"raw":1}', qos: 1, retain: false });
      expect(await store.purgeDedup(T0 + 2_000)).toBe(1);
      expect(await store.purgeDedup(T0 + 2_000)).toBe(0);
    });

    it('retention deletes old finished telegrams with their results, never unfinished ones', async () => {
      const old = [await add(store, { createdAt: T0 }), await add(store, { createdAt: T0 + 1 }), await add(store, { createdAt: T0 + 2 })];
      const finished = await finishAll(store, T0 + 10);
      expect(finished).toHaveLength(3);
      const pending = await add(store, { createdAt: T0 + 3 });
      expect(await store.purgeFinished(T0 + 1_000, 2)).toBe(2);
      expect(await store.getTelegram(old[0]!.ingestId)).toBeUndefined();
      expect(await store.getTelegram(old[1]!.ingestId)).toBeUndefined();
      expect(await store.purgeFinished(T0 + 1_000, 2)).toBe(1);
      expect(await store.purgeFinished(T0 + 1_000, 2)).toBe(0);
      expect(await store.getTelegram(pending.ingestId)).toMatchObject({ status: 'queued' });
      const recent = await add(store, { createdAt: T0 + 5_000 });
      await finishAll(store, T0 + 5_010);
      expect(await store.purgeFinished(T0 + 1_000, 10)).toBe(1); // the old one just finished
      expect(await store.getTelegram(recent.ingestId)).toMatchObject({ status: 'done', parsed: expect.anything() });
    });

    it('getTelegram returns every field of a queued telegram', async () => {
      const t = await add(store, { rssiDbm: -71.5, mode: 'C1', meterId: '87654321', manufacturer: 'LSE', gatewayId: 'gw9' });
      expect(await store.getTelegram(t.ingestId)).toEqual({
        ingestId: t.ingestId, gatewayId: 'gw9', meterId: '87654321', manufacturer: 'LSE', rxTime: t.rxTime, rssiDbm: -71.5,
        status: 'queued', attempts: 0, errorCode: null, lastError: null, nextAttemptAt: t.createdAt, createdAt: t.createdAt,
        finishedAt: null, parsed: null, publishedAt: null, mergedInto: null, rawHex: t.rawHex,
      });
      const n = await add(store, { rssiDbm: null, meterId: null, manufacturer: null, mode: null });
      expect(await store.getTelegram(n.ingestId)).toMatchObject({ rssiDbm: null, meterId: null, manufacturer: null });
    });

    it('claims due jobs with a lease; renewal keeps them, an expired lease is taken over by another worker', async () => {
      const ts = [await add(store, { keyHex: '00112233445566778899aabbccddeeff' }), await add(store), await add(store)];
      const now = T0 + 10_000;
      const jobs = await store.claimJobs(10, now, 'A', 1_000);
      expect(jobs.map((j) => j.ingestId)).toEqual(ts.map((t) => t.ingestId));
      const t0 = ts[0] as NewTelegram;
      expect(jobs[0]).toEqual({
        ingestId: t0.ingestId, gatewayId: t0.gatewayId, rxTime: t0.rxTime, rssiDbm: t0.rssiDbm, mode: t0.mode, rawHex: t0.rawHex,
        meterId: t0.meterId, manufacturer: t0.manufacturer, attempts: 0, keyHex: t0.keyHex, replay: false,
        lockedBy: 'A', leaseSeq: 1, claims: 1, errorCode: null, lastError: null, createdAt: t0.createdAt,
      });
      expect(await store.claimJobs(10, now, 'B', 1_000)).toEqual([]);
      expect((await store.getTelegram(t0.ingestId))?.status).toBe('processing');
      await store.renewLeases([ts[0]!.ingestId, ts[1]!.ingestId], 'A', now + 5_000);
      await store.renewLeases([ts[2]!.ingestId], 'B', now + 5_000); // not B's lease: no effect
      await store.renewLeases([], 'A', now + 5_000);
      expect((await store.claimJobs(10, now + 2_000, 'B', 10_000)).map((j) => j.ingestId)).toEqual([ts[2]!.ingestId]);
      expect((await store.claimJobs(10, now + 6_000, 'C', 1_000)).map((j) => j.ingestId)).toEqual([ts[0]!.ingestId, ts[1]!.ingestId]);
      // A lost its leases to C, so A's renewal must not touch them.
      await store.renewLeases([ts[0]!.ingestId], 'A', now + 60_000);
      expect((await store.claimJobs(10, now + 7_001, 'D', 10_000)).map((j) => j.ingestId)).toEqual([ts[0]!.ingestId, ts[1]!.ingestId]);
      expect(await store.claimJobs(10, now + 11_999, 'E', 1_000)).toEqual([]); // B's lease on ts[2] runs until now + 12 000
      expect((await store.claimJobs(10, now + 12_001, 'E', 1_000)).map((j) => j.ingestId)).toEqual([ts[2]!.ingestId]);
      expect((await store.depths()).queue).toBe(3);
    });

    it('a job put back unrun keeps the claims before it (JOB_MAX_CLAIMS still counts earlier process deaths)', async () => {
      const t = await add(store, { keyHex: '00112233445566778899aabbccddeeff' });
      await store.claimJobs(1, T0 + 10_000, 'A', 1_000);
      // A died; B takes the job over (2 claims), then stops before running it.
      const [b] = await store.claimJobs(1, T0 + 11_001, 'B', 30_000);
      expect(b).toMatchObject({ ingestId: t.ingestId, claims: 2 });
      expect(await store.retryJob(b!, { attempts: 0, nextAttemptAt: T0, errorCode: null, lastError: null, unrun: true })).toBe(true);
      expect((await store.claimJobs(1, T0 + 12_000, 'C', 30_000))[0]).toMatchObject({ ingestId: t.ingestId, claims: 2 });
    });

    it('fences outcomes by lease: a late retry of a lost lease cannot requeue a finished job', async () => {
      const t = await add(store, { keyHex: '00112233445566778899aabbccddeeff' });
      const [a] = await store.claimJobs(1, T0 + 10_000, 'A', 1_000);
      // A stalls past its lease; B takes the job over and finishes it.
      const [b] = await store.claimJobs(1, T0 + 11_001, 'B', 30_000);
      expect(b).toMatchObject({ ingestId: t.ingestId, lockedBy: 'B', leaseSeq: a!.leaseSeq + 1, claims: 2 });
      const reading = { ingestId: t.ingestId, kind: 'reading', topic: 'r', payload: '{"good":1}', qos: 1, retain: false } as const;
      expect(await store.finishJob(b!, { status: 'done', attempts: 1, errorCode: null, lastError: null, parsedJson: '{"good":1}', messages: [reading], now: T0 + 11_002 })).toBe(true);
      // A comes back: its retry and its finish are dropped.
      expect(await store.retryJob(a!, { attempts: 1, nextAttemptAt: T0, errorCode: 'lobaro_timeout', lastError: 'late' })).toBe(false);
      expect(await store.finishJob(a!, { status: 'error', attempts: 1, errorCode: 'decrypt_key_missing', lastError: 'late', parsedJson: '{"bad":1}', messages: [{ ...reading, kind: 'error', payload: '{"bad":1}' }], now: T0 + 11_003 })).toBe(false);
      expect(await store.getTelegram(t.ingestId)).toMatchObject({ status: 'done', parsed: { good: 1 }, errorCode: null });
      expect(await store.claimJobs(10, T0 + 100_000, 'C', 1_000)).toEqual([]);
      expect((await store.depths()).outbox).toBe(2); // raw + B's reading, nothing from A
      // Even the same worker name cannot act on an older lease of the same job.
      const u = await add(store);
      const [first] = await store.claimJobs(1, T0 + 200_000, 'A', 1_000);
      const [second] = await store.claimJobs(1, T0 + 201_001, 'A', 30_000);
      expect(second?.ingestId).toBe(u.ingestId);
      expect(await store.retryJob(first!, { attempts: 0, nextAttemptAt: T0, errorCode: null, lastError: null })).toBe(false);
      expect(await store.retryJob(second!, { attempts: 0, nextAttemptAt: T0, errorCode: null, lastError: null })).toBe(true);
      expect(await store.retryJob(second!, { attempts: 0, nextAttemptAt: T0, errorCode: null, lastError: null })).toBe(false); // not processing any more
    });

    it('counts claims without an outcome; an orderly retry resets the count', async () => {
      const t = await add(store);
      let now = T0 + 10_000;
      for (let i = 1; i <= 3; i++) {
        const [j] = await store.claimJobs(1, now, 'A', 1_000);
        expect(j).toMatchObject({ ingestId: t.ingestId, claims: i });
        now += 1_001; // the lease runs out, as when the process died
      }
      const [j] = await store.claimJobs(1, now, 'A', 1_000);
      expect(await store.retryJob(j!, { attempts: 0, nextAttemptAt: now, errorCode: null, lastError: null })).toBe(true);
      expect((await store.claimJobs(1, now, 'A', 1_000))[0]).toMatchObject({ claims: 1, leaseSeq: 5 });
    });

    it('respects the claim limit', async () => {
      const ts = [await add(store, { createdAt: T0 + 30 }), await add(store, { createdAt: T0 + 10 }), await add(store, { createdAt: T0 + 20 })];
      const first = await store.claimJobs(2, T0 + 1_000, 'A', 1_000);
      expect(first).toHaveLength(2);
      const second = await store.claimJobs(2, T0 + 1_000, 'A', 1_000);
      expect([...first, ...second].map((j) => j.ingestId).sort()).toEqual(ts.map((t) => t.ingestId).sort());
    });

    it('retryJob puts a job back with its attempt count, error and due time', async () => {
      const t = await add(store);
      const now = T0 + 10_000;
      expect(await store.nextDueAt()).toBe(t.createdAt);
      const [claimed] = await store.claimJobs(1, now, 'A', 30_000);
      expect(await store.nextDueAt()).toBeNull();
      await store.retryJob(claimed!, { attempts: 1, nextAttemptAt: now + 1_000, errorCode: 'lobaro_unavailable', lastError: 'HTTP 503' });
      expect(await store.nextDueAt()).toBe(now + 1_000);
      expect(await store.claimJobs(1, now + 999, 'A', 30_000)).toEqual([]);
      expect(await store.getTelegram(t.ingestId)).toMatchObject({
        status: 'queued', attempts: 1, errorCode: 'lobaro_unavailable', lastError: 'HTTP 503', nextAttemptAt: now + 1_000,
      });
      const [job] = await store.claimJobs(1, now + 1_000, 'B', 30_000);
      expect(job).toMatchObject({ ingestId: t.ingestId, attempts: 1, replay: false });
    });

    it('finishJob writes the final state, the parse result and the messages together; markPublished stamps it', async () => {
      const t = await add(store, { keyHex: '00112233445566778899aabbccddeeff' });
      const now = T0 + 10_000;
      const [job] = await store.claimJobs(1, now, 'A', 30_000);
      const reading = { ingestId: t.ingestId, kind: 'reading', topic: 'oms/v1/meter/12345678/reading', payload: '{"v":1}', qos: 1, retain: true } as const;
      const status = { ingestId: null, kind: 'status', topic: 'oms/v1/status', payload: '{"s":1}', qos: 0, retain: false } as const;
      await store.finishJob(job!, {
        status: 'done', attempts: 1, errorCode: null, lastError: null, parsedJson: '{"values":[1]}', messages: [reading, status], now,
      });
      expect(await store.getTelegram(t.ingestId)).toMatchObject({
        status: 'done', attempts: 1, finishedAt: now, parsed: { values: [1] }, publishedAt: null, errorCode: null,
      });
      expect(await store.depths()).toEqual({ queue: 0, outbox: 3, oldestOutboxAt: t.createdAt });
      const rows = await store.claimOutbox(10, now, 'relay', 10_000);
      expect(rows.map(({ id: _id, ...m }) => m)).toEqual([rawMessage(t), reading, status]);
      expect(rows[0]!.id).toBeLessThan(rows[1]!.id);
      expect(rows[1]!.id).toBeLessThan(rows[2]!.id);
      await store.markPublished([rows[0]!.id], now + 1);
      expect((await store.getTelegram(t.ingestId))?.publishedAt).toBeNull(); // the raw message does not count
      await store.markPublished([rows[1]!.id, rows[2]!.id], now + 2);
      expect((await store.getTelegram(t.ingestId))?.publishedAt).toBe(now + 2);
      expect(await store.depths()).toEqual({ queue: 0, outbox: 0, oldestOutboxAt: null });
      await store.markPublished([], now);
      // The key sent with the telegram is gone once the job is final: a replay claims it without.
      await store.replayTelegrams({}, now + 3, 10);
      expect((await store.claimJobs(1, now + 3, 'A', 1_000))[0]).toMatchObject({ keyHex: null, replay: true });
    });

    it('finishJob with status error records the error and its message', async () => {
      const t = await add(store);
      const [job] = await store.claimJobs(1, T0 + 10_000, 'A', 30_000);
      const error = { ingestId: t.ingestId, kind: 'error', topic: 'oms/v1/error', payload: '{"e":1}', qos: 1, retain: false } as const;
      await store.finishJob(job!, {
        status: 'error', attempts: 5, errorCode: 'decrypt_failed', lastError: 'bad key', parsedJson: '{"error":"decrypt_failed"}',
        messages: [error], now: T0 + 11_000,
      });
      expect(await store.getTelegram(t.ingestId)).toMatchObject({
        status: 'error', attempts: 5, errorCode: 'decrypt_failed', lastError: 'bad key', parsed: { error: 'decrypt_failed' },
      });
      expect((await store.depths()).outbox).toBe(2);
    });

    it('claimOutbox leases rows; releaseOutbox and lease expiry make them claimable again', async () => {
      const a = await add(store);
      const b = await add(store);
      const now = T0 + 10_000;
      expect(await store.depths()).toMatchObject({ outbox: 2, oldestOutboxAt: a.createdAt });
      const first = await store.claimOutbox(1, now, 'R1', 5_000);
      expect(first.map((r) => r.ingestId)).toEqual([a.ingestId]);
      expect((await store.claimOutbox(10, now, 'R2', 5_000)).map((r) => r.ingestId)).toEqual([b.ingestId]);
      expect(await store.claimOutbox(10, now, 'R3', 5_000)).toEqual([]);
      await store.releaseOutbox([first[0]!.id]);
      await store.releaseOutbox([]);
      expect((await store.claimOutbox(10, now, 'R3', 5_000)).map((r) => r.ingestId)).toEqual([a.ingestId]);
      expect((await store.claimOutbox(10, now + 5_001, 'R4', 5_000)).map((r) => r.ingestId)).toEqual([a.ingestId, b.ingestId]);
      expect(await store.depths()).toMatchObject({ outbox: 2 });
    });

    it('stores, lists, pages and deletes meter keys', async () => {
      expect(await store.getMeterKey('00000001')).toBeUndefined();
      for (let i = 5; i >= 1; i--) await store.putMeterKey(`0000000${i}`, `${i}`.repeat(32), i % 2 ? 'KAM' : null, T0 + i);
      await store.putMeterKey('00000003', 'ff'.repeat(16), 'LSE', T0 + 100);
      expect(await store.getMeterKey('00000003')).toBe('ff'.repeat(16));
      expect(await store.getMeterKeyRecord('00000003')).toEqual({ meterId: '00000003', manufacturer: 'LSE', keyHex: 'ff'.repeat(16), updatedAt: T0 + 100 });
      expect(await store.getMeterKeyRecord('99999999')).toBeUndefined();
      const pages = await walk((c) => store.listMeterKeys(2, c));
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat().map((k) => k.meterId)).toEqual(['00000001', '00000002', '00000003', '00000004', '00000005']);
      expect(pages.flat()[1]).toEqual({ meterId: '00000002', manufacturer: null, keyHex: '2'.repeat(32), updatedAt: T0 + 2 });
      expect(await store.deleteMeterKey('00000002')).toBe(true);
      expect(await store.deleteMeterKey('00000002')).toBe(false);
      expect((await store.listMeterKeys(10, null)).items.map((k) => k.meterId)).toEqual(['00000001', '00000003', '00000004', '00000005']);
      await expect(store.listMeterKeys(2, 'not-a-cursor')).rejects.toMatchObject({ code: 'invalid_cursor' });
    });

    it('keeps the keys-needed list: first/last seen, count, gateways; a stored key removes the meter', async () => {
      await missing(store, '11111111', null, 'gw2', T0 + 10);
      await missing(store, '11111111', 'KAM', 'gw1', T0 + 20);
      await missing(store, '11111111', null, 'gw1', T0 + 15);
      await missing(store, '22222222', 'LSE', 'gw1', T0 + 30);
      await missing(store, '33333333', 'LSE', 'gw3', T0 + 5);
      expect((await store.countKeyProblems()).key_missing).toBe(3);
      const page1 = await store.listKeyProblems('key_missing', 2, null);
      expect(page1.items.map((m) => m.meterId)).toEqual(['22222222', '11111111']);
      expect(page1.items[1]).toEqual({
        meterId: '11111111', manufacturer: 'KAM', problem: 'key_missing', detail: 'no key', firstSeen: T0 + 10, lastSeen: T0 + 20, count: 3, gateways: ['gw1', 'gw2'],
      });
      expect(page1.nextCursor).not.toBeNull();
      const page2 = await store.listKeyProblems('key_missing', 2, page1.nextCursor);
      expect(page2).toEqual({
        items: [{ meterId: '33333333', manufacturer: 'LSE', problem: 'key_missing', detail: 'no key', firstSeen: T0 + 5, lastSeen: T0 + 5, count: 1, gateways: ['gw3'] }],
        nextCursor: null,
      });
      await store.putMeterKey('11111111', 'aa'.repeat(16), 'KAM', T0 + 40);
      expect((await store.countKeyProblems()).key_missing).toBe(2);
      expect((await store.listKeyProblems('key_missing', 10, null)).items.map((m) => m.meterId)).toEqual(['22222222', '33333333']);
      // A late report for a meter whose key is stored by now does not put it back on the list.
      await missing(store, '11111111', 'KAM', 'gw1', T0 + 50);
      expect((await store.countKeyProblems()).key_missing).toBe(2);
      // Deleting the key again and seeing the meter starts a fresh entry.
      await store.deleteMeterKey('11111111');
      await missing(store, '11111111', null, 'gw4', T0 + 60);
      expect((await store.listKeyProblems('key_missing', 1, null)).items[0]).toEqual({
        meterId: '11111111', manufacturer: null, problem: 'key_missing', detail: 'no key', firstSeen: T0 + 60, lastSeen: T0 + 60, count: 1, gateways: ['gw4'],
      });
    });

    it('keeps the latest key problem per meter: kind and detail, count and first_seen restart on a new kind, filter by kind', async () => {
      await missing(store, 'A1', 'KAM', 'gw1', T0 + 10);
      await missing(store, 'A1', null, 'gw1', T0 + 11);
      await store.putMeterKey('A1', 'aa'.repeat(16), 'KAM', T0 + 12);
      expect(await store.countKeyProblems()).toEqual({ key_missing: 0, wrong_key: 0, truncated: 0, unsupported_mode: 0 });
      // A key is stored now, so wrong_key is recorded (key_missing would be skipped).
      const wrong = { meterId: 'A1', manufacturer: null, gatewayId: 'gw2', problem: 'wrong_key' as const, detail: 'no 2F2F', now: T0 + 20 };
      await store.recordKeyProblem(wrong);
      await store.recordKeyProblem({ ...wrong, now: T0 + 25 });
      await store.recordKeyProblem({ meterId: 'B2', manufacturer: 'LSE', gatewayId: 'gw1', problem: 'truncated', detail: 'x'.repeat(1_000), now: T0 + 30 });
      await missing(store, 'C3', 'DME', 'gw3', T0 + 40);
      await store.recordKeyProblem({ meterId: 'C3', manufacturer: null, gatewayId: 'gw3', problem: 'unsupported_mode', detail: 'mode 13', now: T0 + 50 });
      expect(await store.countKeyProblems()).toEqual({ key_missing: 0, wrong_key: 1, truncated: 1, unsupported_mode: 1 });
      const all = await store.listKeyProblems(null, 10, null);
      expect(all.items.map((m) => [m.meterId, m.problem])).toEqual([['C3', 'unsupported_mode'], ['B2', 'truncated'], ['A1', 'wrong_key']]);
      expect(all.items[0]).toEqual({
        meterId: 'C3', manufacturer: 'DME', problem: 'unsupported_mode', detail: 'mode 13', firstSeen: T0 + 50, lastSeen: T0 + 50, count: 1, gateways: ['gw3'],
      });
      expect(all.items[1]!.detail).toHaveLength(KEY_PROBLEM_DETAIL_MAX);
      expect(all.items[2]).toMatchObject({ problem: 'wrong_key', detail: 'no 2F2F', firstSeen: T0 + 20, lastSeen: T0 + 25, count: 2, gateways: ['gw2'] });
      const wrongOnly = await store.listKeyProblems('wrong_key', 10, null);
      expect(wrongOnly).toEqual({ items: [all.items[2]], nextCursor: null });
      const first = await store.listKeyProblems(null, 2, null);
      expect((await store.listKeyProblems(null, 2, first.nextCursor)).items.map((m) => m.meterId)).toEqual(['A1']);
      expect((await store.listKeyProblems('key_missing', 10, null)).items).toEqual([]);
      // Storing a key clears every kind, not only key_missing.
      await store.putMeterKey('B2', 'bb'.repeat(16), null, T0 + 60);
      expect((await store.listKeyProblems(null, 10, null)).items.map((m) => m.meterId)).toEqual(['C3', 'A1']);
    });

    it('stores mapping versions, keeps exactly one active and activates older ones', async () => {
      expect(await store.getActiveMapping()).toBeUndefined();
      expect(await store.listMappingVersions(10, null)).toEqual({ items: [], nextCursor: null });
      const v1 = await store.putMapping('{"mappings":[]}', T0 + 1);
      expect(v1).toEqual({ version: 1, json: '{"mappings":[]}', createdAt: T0 + 1, active: true });
      const v2 = await store.putMapping('{"mappings":[{"a":1}]}', T0 + 2);
      const v3 = await store.putMapping('{"mappings":[{"a":2}]}', T0 + 3);
      expect([v2.version, v3.version]).toEqual([2, 3]);
      expect(await store.getActiveMapping()).toEqual(v3);
      const pages = await walk((c) => store.listMappingVersions(2, c));
      expect(pages.map((p) => p.map((m) => [m.version, m.active]))).toEqual([[[3, true], [2, false]], [[1, false]]]);
      expect(await store.activateMapping(1)).toEqual({ ...v1, active: true });
      expect(await store.getActiveMapping()).toEqual({ ...v1, active: true });
      expect(await store.activateMapping(42)).toBeUndefined();
      expect((await store.getActiveMapping())?.version).toBe(1);
      expect((await store.listMappingVersions(10, null)).items.filter((m) => m.active).map((m) => m.version)).toEqual([1]);
    });

    it('lists telegrams newest first with filters, and the cursor walks every page exactly once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        // Pairs share a created_at, so the cursor must break ties.
        const t = await add(store, { createdAt: T0 + Math.floor(i / 2) * 100, gatewayId: i % 3 === 0 ? 'gwA' : 'gwB', meterId: i % 4 === 0 ? 'M4' : 'MX' });
        ids.push(t.ingestId);
      }
      const done = await finishAll(store, T0 + 5_000);
      expect(done).toHaveLength(23);
      // Re-queue three, then fail two of them with a code and leave one queued.
      await store.replayTelegrams({ since: T0 + 1_000 }, T0 + 6_000, 100);
      const failed = await store.claimJobs(2, T0 + 6_000, 'w', 60_000);
      for (const j of failed) {
        await store.finishJob(j, { status: 'error', attempts: 1, errorCode: 'decode_failed', lastError: 'x', parsedJson: '{}', messages: [], now: T0 + 6_001 });
      }

      const all = await walk((c) => store.listTelegrams({}, 4, c));
      expect(all.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 3]);
      const flat = all.flat().map((t) => t.ingestId);
      expect(new Set(flat).size).toBe(23);
      expect(flat).toEqual([...ids].sort((a, b) => {
        const ca = (ids.indexOf(a) >> 1) * 100;
        const cb = (ids.indexOf(b) >> 1) * 100;
        return cb - ca || (a < b ? 1 : -1);
      }));
      expect((await store.listTelegrams({}, 100, null)).nextCursor).toBeNull();

      const byGateway = (await store.listTelegrams({ gatewayId: 'gwA' }, 100, null)).items;
      expect(byGateway.map((t) => t.ingestId).sort()).toEqual(ids.filter((_, i) => i % 3 === 0).sort());
      const byMeter = await walk((c) => store.listTelegrams({ meterId: 'M4', gatewayId: 'gwB' }, 1, c));
      expect(byMeter.flat().map((t) => t.ingestId).sort()).toEqual(ids.filter((_, i) => i % 4 === 0 && i % 3 !== 0).sort());
      const window = (await store.listTelegrams({ since: T0 + 200, until: T0 + 400 }, 100, null)).items;
      expect(window.map((t) => t.createdAt)).toEqual([T0 + 300, T0 + 300, T0 + 200, T0 + 200]);
      const errors = (await store.listTelegrams({ status: 'error' }, 100, null)).items;
      expect(errors.map((t) => t.ingestId).sort()).toEqual(failed.map((j) => j.ingestId).sort());
      expect((await store.listTelegrams({ errorCode: 'decode_failed', status: 'error' }, 100, null)).items).toHaveLength(2);
      expect((await store.listTelegrams({ errorCode: 'nope' }, 100, null)).items).toEqual([]);
      const queued = (await store.listTelegrams({ status: 'queued' }, 100, null)).items;
      expect(queued).toHaveLength(1);
      expect(queued[0]).toMatchObject({ status: 'queued', attempts: 0, parsed: null, finishedAt: null });
      const doneOne = (await store.listTelegrams({ status: 'done' }, 1, null)).items[0];
      expect(doneOne).toMatchObject({ status: 'done', attempts: 1, parsed: { status: 'done' }, finishedAt: T0 + 5_000 });
      await expect(store.listTelegrams({}, 4, 'eyJ4IjoxfQ')).rejects.toMatchObject({ code: 'invalid_cursor' });
    });

    it('replays only finished telegrams: attempts reset, due now, replay flag on the next claim', async () => {
      const a = await add(store, { gatewayId: 'gwA', createdAt: T0 + 10 });
      const b = await add(store, { gatewayId: 'gwB', createdAt: T0 + 20 });
      await finishAll(store, T0 + 1_000, 'error', 'lobaro_rejected');
      const c = await add(store, { gatewayId: 'gwA', createdAt: T0 + 1_500 }); // still queued: not replayed
      expect((await store.replayTelegrams({ gatewayId: 'gwA', status: 'queued' }, T0 + 2_000, 100)).replayed).toBe(0);
      expect((await store.replayTelegrams({ gatewayId: 'gwA' }, T0 + 2_000, 100)).replayed).toBe(1);
      expect(await store.getTelegram(a.ingestId)).toMatchObject({
        status: 'queued', attempts: 0, nextAttemptAt: T0 + 2_000, finishedAt: null, parsed: null, errorCode: null,
      });
      expect((await store.getTelegram(b.ingestId))?.status).toBe('error');
      expect(await store.nextDueAt()).toBe(c.createdAt);
      const jobs = await store.claimJobs(10, T0 + 2_000, 'A', 1_000);
      expect(jobs.map((j) => [j.ingestId, j.replay, j.attempts])).toEqual([[a.ingestId, true, 0], [c.ingestId, false, 0]]);
      for (const j of jobs) {
        await store.finishJob(j, { status: 'done', attempts: 1, errorCode: null, lastError: null, parsedJson: '{"again":true}', messages: [], now: T0 + 3_000 });
      }
      expect(await store.getTelegram(a.ingestId)).toMatchObject({ status: 'done', parsed: { again: true } });
      expect((await store.replayTelegrams({ errorCode: 'lobaro_rejected' }, T0 + 4_000, 100)).replayed).toBe(1);
      expect((await store.replayTelegrams({}, T0 + 4_000, 100)).replayed).toBe(2); // a and c; b is queued already
      const again = await store.claimJobs(10, T0 + 4_000, 'A', 1_000);
      expect(again.every((j) => j.replay)).toBe(true);
      expect(again).toHaveLength(3);
    });

    it('replays at most `limit` telegrams, oldest first, says how many remain and which have no key any more (issue 10)', async () => {
      const withKey = await add(store, { meterId: 'KEYED', createdAt: T0 + 1 });
      const inline = await add(store, { meterId: 'NOKEY', createdAt: T0 + 2, keyHex: 'sealed-inline' });
      const keyless = await add(store, { meterId: 'NOKEY', createdAt: T0 + 3 });
      const later = await add(store, { meterId: 'NOKEY', createdAt: T0 + 4 });
      await store.putMeterKey('KEYED', 'aa'.repeat(16), null, T0);
      await finishAll(store, T0 + 1_000);
      // finishJob deleted the inline key: the second telegram is keyless now as well.
      const first = await store.replayTelegrams({ since: T0 }, T0 + 2_000, 3);
      expect(first.replayed).toBe(3);
      expect(first.remaining).toBe(1);
      expect(first.keyless.map((k) => k.ingestId).sort()).toEqual([inline.ingestId, keyless.ingestId].sort());
      expect(first.keyless[0]!.rawHex).toBe(inline.rawHex);
      expect((await store.getTelegram(withKey.ingestId))?.status).toBe('queued');
      expect((await store.getTelegram(later.ingestId))?.status).toBe('done');
      const second = await store.replayTelegrams({ since: T0 }, T0 + 2_000, 3);
      expect(second).toEqual({ replayed: 1, remaining: 0, keyless: [{ ingestId: later.ingestId, rawHex: later.rawHex }] });
      expect(await store.replayTelegrams({ since: T0 }, T0 + 2_000, 3)).toEqual({ replayed: 0, remaining: 0, keyless: [] });
    });

    it('bounds the keys-needed list: gateways per meter, age-out, and a cap on meters (issue 10)', async () => {
      for (let g = 0; g < 40; g++) await missing(store, 'M-GW', null, `gw-${String(g).padStart(2, '0')}`, T0 + g);
      const [entry] = (await store.listKeyProblems('key_missing', 10, null)).items;
      expect(entry).toMatchObject({ meterId: 'M-GW', count: 40 });
      expect(entry!.gateways).toHaveLength(KEY_MISSING_GATEWAYS_MAX);
      for (let i = 0; i < 30; i++) await missing(store, `M-${String(i).padStart(2, '0')}`, null, 'gw', T0 + 1_000 + i);
      expect((await store.countKeyProblems()).key_missing).toBe(31);
      // M-GW (last seen T0+39) ages out; of the 30 others the 10 seen last stay.
      expect(await store.pruneKeyProblems(T0 + 100, 10)).toBe(21);
      const left = (await store.listKeyProblems('key_missing', 100, null)).items.map((m) => m.meterId);
      expect(left).toEqual(Array.from({ length: 10 }, (_, i) => `M-${29 - i}`));
      expect(await store.pruneKeyProblems(T0 + 100, 10)).toBe(0);
      // The gateways of pruned meters are gone too: a meter seen again starts with only its new gateway.
      await missing(store, 'M-GW', null, 'gw-new', T0 + 5_000);
      expect((await store.listKeyProblems('key_missing', 1, null)).items[0]).toMatchObject({ meterId: 'M-GW', count: 1, gateways: ['gw-new'] });
    });

    it('writes and pages the audit log newest first', async () => {
      for (let i = 1; i <= 5; i++) {
        await store.insertAudit({ at: T0 + i, action: 'key.put', target: `m${i}`, actor: 'abcdef0123456789', details: i === 2 ? { n: i, list: [1] } : null });
      }
      const pages = await walk((c) => store.listAudit(2, c));
      expect(pages.map((p) => p.map((r) => r.target))).toEqual([['m5', 'm4'], ['m3', 'm2'], ['m1']]);
      const m2 = pages[1]![1]!;
      expect(m2).toEqual({ id: m2.id, at: T0 + 2, action: 'key.put', target: 'm2', actor: 'abcdef0123456789', details: { n: 2, list: [1] } });
      expect(pages[2]![0]!.id).toBeLessThan(m2.id);
    });

    it('computes gateway statistics over a window', async () => {
      const now = T0 + 600_000;
      await add(store, { gatewayId: 'gw1', createdAt: now - 500_000, rssiDbm: -100 }); // before the window
      await add(store, { gatewayId: 'gw1', createdAt: now - 120_000, rssiDbm: -90 });
      await add(store, { gatewayId: 'gw1', createdAt: now - 30_000, rssiDbm: -70 });
      await add(store, { gatewayId: 'gw1', createdAt: now - 60_000, rssiDbm: null });
      await add(store, { gatewayId: 'gw2', createdAt: now - 10_000, rssiDbm: null });
      expect(await store.gatewayStats(now - 300_000, now)).toEqual([
        { gatewayId: 'gw1', lastSeen: now - 30_000, lastMinute: 1, count: 3, meanRssiDbm: -80 },
        { gatewayId: 'gw2', lastSeen: now - 10_000, lastMinute: 1, count: 1, meanRssiDbm: null },
      ]);
      expect(await store.gatewayStats(now + 1, now + 1)).toEqual([]);
    });

    it('stores settings', async () => {
      expect(await store.getSetting('log_level')).toBeUndefined();
      await store.putSetting('log_level', 'debug');
      await store.putSetting('log_level', 'info');
      await store.putSetting('other', '');
      expect(await store.getSetting('log_level')).toBe('info');
      expect(await store.getSetting('other')).toBe('');
    });

    it('raises the shared parser state, never lowers it, and closes the circuit', async () => {
      expect(await store.getParserState()).toEqual({ openUntil: 0, pausedUntil: 0 });
      await store.raiseParserState({ openUntil: T0 + 100 });
      expect(await store.getParserState()).toEqual({ openUntil: T0 + 100, pausedUntil: 0 });
      await store.raiseParserState({ openUntil: T0 + 50, pausedUntil: T0 + 70 });
      expect(await store.getParserState()).toEqual({ openUntil: T0 + 100, pausedUntil: T0 + 70 });
      await store.raiseParserState({});
      await store.closeCircuit();
      expect(await store.getParserState()).toEqual({ openUntil: 0, pausedUntil: T0 + 70 });
    });

    it('keeps everything across a restart on the same database', async () => {
      const t = await add(store);
      await store.putMeterKey('12345678', 'aa'.repeat(16), null, T0);
      await store.putSetting('a', 'b');
      await store.stop();
      const reopened = await env.open();
      try {
        expect((await reopened.getTelegram(t.ingestId))?.status).toBe('queued');
        expect(await reopened.getMeterKey('12345678')).toBe('aa'.repeat(16));
        expect(await reopened.getSetting('a')).toBe('b');
        const unsubscribe = reopened.onWorkAvailable(() => {});
        unsubscribe();
      } finally {
        await reopened.stop();
      }
    });
  });
}
