import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewTelegram, TelegramStore } from '../../src/store/store.js';
import { rawMessage, T0, telegram, type StoreEnv } from './store-fixtures.js';

const WINDOW = 1_000;

/** A reception of transmission `hash` by `gatewayId`, accepted at `at`. */
export function reception(hash: string, gatewayId: string, at: number, over: Partial<NewTelegram> = {}): NewTelegram {
  return telegram({ gatewayId, createdAt: at, dedupHash: `d-${gatewayId}-${hash}-${at}`, merge: { hash, until: at + WINDOW, dueAt: at + WINDOW + 250 }, ...over });
}

/** DEDUP_SCOPE=global part of the TelegramStore contract (issue 12), run against every store. */
export function mergeContract(name: string, makeEnv: () => Promise<StoreEnv>): void {
  describe(`merge contract: ${name}`, () => {
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

    it('receptions within the window join the first one\'s job, which is due after the window; each keeps its row and raw message', async () => {
      const a = reception('h1', 'gw-a', T0, { rssiDbm: -90, keyHex: 'sealed-a' });
      const b = reception('h1', 'gw-b', T0 + 300, { rssiDbm: -60, keyHex: 'sealed-b' });
      const c = reception('h1', 'gw-c', T0 + 999, { rssiDbm: -75 });
      expect(await store.insertTelegram(a, rawMessage(a), null)).toEqual({ ingestId: a.ingestId, duplicate: false });
      expect(await store.insertTelegram(b, rawMessage(b), null)).toEqual({ ingestId: b.ingestId, duplicate: false, mergedInto: a.ingestId });
      const [rc] = await store.insertTelegrams([{ telegram: c, raw: rawMessage(c), clientId: 'c1' }], null, 86_400_000);
      expect(rc).toEqual({ ingestId: c.ingestId, duplicate: false, mergedInto: a.ingestId, repeated: false });

      expect((await store.getTelegram(b.ingestId))).toMatchObject({ status: 'merged', mergedInto: a.ingestId });
      expect((await store.getTelegram(a.ingestId))).toMatchObject({ status: 'queued', mergedInto: null, nextAttemptAt: T0 + WINDOW + 250 });
      expect((await store.depths()).queue).toBe(1);
      expect(await store.claimJobs(10, T0 + WINDOW + 249, 'w', 60_000)).toEqual([]);
      const [job] = await store.claimJobs(10, T0 + WINDOW + 250, 'w', 60_000);
      expect(job).toMatchObject({ ingestId: a.ingestId, keyHex: 'sealed-a' });
      const receptions = await store.listReceptions(a.ingestId);
      expect(receptions.map((r) => [r.gatewayId, r.rssiDbm, r.ingestId]).sort()).toEqual([
        ['gw-a', -90, a.ingestId], ['gw-b', -60, b.ingestId], ['gw-c', -75, c.ingestId],
      ]);
      const raws = await store.claimOutbox(10, T0 + 2_000, 'r', 1_000);
      expect(raws.map((r) => r.ingestId)).toEqual([a.ingestId, b.ingestId, c.ingestId]);
    });

    it('a reception after the window starts a new job; other transmissions never join', async () => {
      const a = reception('h2', 'gw-a', T0);
      const late = reception('h2', 'gw-b', T0 + WINDOW);
      const other = reception('h3', 'gw-b', T0 + 10);
      for (const t of [a, late, other]) expect((await store.insertTelegram(t, rawMessage(t), null)).mergedInto).toBeUndefined();
      expect((await store.depths()).queue).toBe(3);
      expect(await store.listReceptions(a.ingestId)).toHaveLength(1);
    });

    it('per-gateway dedup still answers a gateway\'s own repeat before merging', async () => {
      const a = reception('h4', 'gw-a', T0, { dedupHash: 'same' });
      const again = reception('h4', 'gw-a', T0 + 5, { dedupHash: 'same' });
      await store.insertTelegram(a, rawMessage(a), 60_000);
      expect(await store.insertTelegram(again, rawMessage(again), 60_000)).toEqual({ ingestId: a.ingestId, duplicate: true });
      expect(await store.listReceptions(a.ingestId)).toHaveLength(1);
    });

    it('retention deletes merged receptions; expired merge claims are purged', async () => {
      const a = reception('h5', 'gw-a', T0);
      const b = reception('h5', 'gw-b', T0 + 1);
      await store.insertTelegram(a, rawMessage(a), null);
      await store.insertTelegram(b, rawMessage(b), null);
      expect(await store.purgeDedup(T0 + WINDOW)).toBeGreaterThanOrEqual(1);
      expect(await store.purgeFinished(T0 + 10, 100)).toBe(1);
      expect(await store.getTelegram(b.ingestId)).toBeUndefined();
      expect(await store.getTelegram(a.ingestId)).toBeDefined();
    });
  });
}
