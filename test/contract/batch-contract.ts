import { expect, it } from 'vitest';
import type { BatchInsert, TelegramStore } from '../../src/store/store.js';
import { rawMessage, T0, telegram, type StoreEnv } from './store-fixtures.js';

const DAY = 86_400_000;

function item(clientId: string | null, over: Parameters<typeof telegram>[0] = {}): BatchInsert {
  const t = telegram(over);
  return { telegram: t, raw: rawMessage(t), clientId };
}

/** insertTelegrams (batch upload, issue 12); runs inside storeContract's describe with its store. */
export function batchContract(current: () => { store: TelegramStore; env: StoreEnv; multiInstance: boolean }): void {
  it('batch: writes every item in order, dedups inside the batch, and a repeated client_id returns the first answer', async () => {
    const { store } = current();
    const first = [item('c1', { createdAt: T0 }), item('c2', { createdAt: T0, dedupHash: 'h' }), item(null, { createdAt: T0, dedupHash: 'h' })];
    const r1 = await store.insertTelegrams(first, 60_000, DAY);
    expect(r1).toEqual([
      { ingestId: first[0]!.telegram.ingestId, duplicate: false, repeated: false },
      { ingestId: first[1]!.telegram.ingestId, duplicate: false, repeated: false },
      { ingestId: first[1]!.telegram.ingestId, duplicate: true, repeated: false },
    ]);
    expect((await store.depths()).queue).toBe(2);
    // The gateway lost the answer and uploads the same telegrams again (new ingest ids are generated per request).
    const again = [item('c1', { createdAt: T0 + 5 }), item('c2', { createdAt: T0 + 5, dedupHash: 'h' }), item('c3', { createdAt: T0 + 5, dedupHash: 'h' })];
    const r2 = await store.insertTelegrams(again, 60_000, DAY);
    expect(r2).toEqual([
      { ingestId: first[0]!.telegram.ingestId, duplicate: false, repeated: true },
      { ingestId: first[1]!.telegram.ingestId, duplicate: false, repeated: true },
      { ingestId: first[1]!.telegram.ingestId, duplicate: true, repeated: false },
    ]);
    expect(await store.getTelegram(again[0]!.telegram.ingestId)).toBeUndefined();
    expect(await store.depths()).toMatchObject({ queue: 2, outbox: 2 });
    // c3 was a duplicate the first time: its retry answers duplicate again, with the first ingest id.
    const r3 = await store.insertTelegrams([item('c3', { createdAt: T0 + 6, dedupHash: 'h' })], 60_000, DAY);
    expect(r3).toEqual([{ ingestId: first[1]!.telegram.ingestId, duplicate: true, repeated: true }]);
  });

  it('batch: client ids are per gateway and expire after the TTL (purged with dedup entries)', async () => {
    const { store } = current();
    const a = item('same', { gatewayId: 'gwA', createdAt: T0 });
    const b = item('same', { gatewayId: 'gwB', createdAt: T0 });
    const r = await store.insertTelegrams([a, b], null, 1_000);
    expect(r.map((x) => x.repeated)).toEqual([false, false]);
    expect(r.map((x) => x.ingestId)).toEqual([a.telegram.ingestId, b.telegram.ingestId]);
    const late = item('same', { gatewayId: 'gwA', createdAt: T0 + 1_000 });
    expect(await store.insertTelegrams([late], null, 1_000)).toEqual([{ ingestId: late.telegram.ingestId, duplicate: false, repeated: false }]);
    expect(await store.purgeDedup(T0 + 5_000)).toBe(2);
  });

  it('batch: concurrent uploads of the same client ids create each telegram once', async () => {
    const { store, env } = current();
    // Several instances on PostgreSQL; SQLite is one process, so its concurrent uploads share one store.
    const other = current().multiInstance ? await env.open() : store;
    const batch = (n: number) => Array.from({ length: 50 }, (_, i) => item(`k${i}`, { createdAt: T0 + n }));
    const results = await Promise.all([store.insertTelegrams(batch(1), null, DAY), other.insertTelegrams(batch(2), null, DAY), store.insertTelegrams(batch(3), null, DAY)]);
    for (let i = 0; i < 50; i++) {
      const ids = new Set(results.map((r) => r[i]!.ingestId));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r[i]!.repeated)).toHaveLength(1);
    }
    expect((await store.depths()).queue).toBe(50);
  });
}
