import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelegramStore } from '../../src/store/store.js';
import { add, T0, type StoreEnv } from './store-fixtures.js';

const SILENT = 60_000;

/** Gateway liveness part of the TelegramStore contract (issue 12), run against every store. */
export function gatewayContract(name: string, makeEnv: () => Promise<StoreEnv>): void {
  describe(`gateway liveness contract: ${name}`, () => {
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

    /** Every outbox row, oldest first, released again so later claims see them too. */
    const outbox = async (now: number) => {
      const rows = await store.claimOutbox(100, now, 'peek', 1);
      await store.releaseOutbox(rows.map((r) => r.id));
      return rows.filter((r) => r.kind !== 'raw').map((r) => ({ topic: r.topic, payload: r.payload, retain: r.retain, kind: r.kind }));
    };

    it('goes online, silent once, and back once, with the messages queued in the same transaction', async () => {
      await add(store, { gatewayId: 'gw-a', createdAt: T0 });
      await add(store, { gatewayId: 'gw-a', createdAt: T0 + 1_000 });
      await add(store, { gatewayId: 'gw-b', createdAt: T0 + 2_000 });

      const first = await store.checkGateways(T0 - 1, T0 + 3_000, SILENT);
      expect(first?.map((t) => [t.gatewayId, t.from, t.to])).toEqual([['gw-a', 'new', 'online'], ['gw-b', 'new', 'online']]);
      expect(await outbox(T0 + 3_000)).toEqual([
        { topic: 'oms/v1/gw/gw-a/status', payload: 'online', retain: true, kind: 'state' },
        { topic: 'oms/v1/gw/gw-b/status', payload: 'online', retain: true, kind: 'state' },
      ]);
      expect(await store.checkGateways(T0 + 2_000, T0 + 4_000, SILENT)).toEqual([]);

      // gw-b keeps talking; gw-a falls silent one minute after its last telegram (T0 + 1 s).
      await add(store, { gatewayId: 'gw-b', createdAt: T0 + 50_000 });
      expect(await store.checkGateways(T0 + 3_000, T0 + 60_999, SILENT)).toEqual([]);
      const silent = await store.checkGateways(T0 + 55_000, T0 + 61_000, SILENT);
      expect(silent).toEqual([{ gatewayId: 'gw-a', from: 'online', to: 'silent', lastSeen: T0 + 1_000, since: T0 + 3_000 }]);
      expect(await store.checkGateways(T0 + 56_000, T0 + 70_000, SILENT)).toEqual([]);
      const events = (await outbox(T0 + 70_000)).slice(2);
      expect(events[0]).toMatchObject({ topic: 'oms/v1/bridge/events', retain: false, kind: 'event' });
      expect(JSON.parse(events[0]!.payload)).toMatchObject({ event: 'gateway_silent', gateway_id: 'gw-a', last_seen: new Date(T0 + 1_000).toISOString(), silent_s: 60 });
      expect(events[1]).toEqual({ topic: 'oms/v1/gw/gw-a/status', payload: 'silent', retain: true, kind: 'state' });

      await add(store, { gatewayId: 'gw-a', createdAt: T0 + 80_000 });
      const back = await store.checkGateways(T0 + 65_000, T0 + 81_000, SILENT);
      expect(back?.map((t) => [t.gatewayId, t.from, t.to, t.lastSeen])).toEqual([['gw-a', 'silent', 'online', T0 + 80_000]]);
      const more = (await outbox(T0 + 81_000)).slice(4);
      expect(JSON.parse(more[0]!.payload)).toMatchObject({ event: 'gateway_back', gateway_id: 'gw-a', silent_since: new Date(T0 + 61_000).toISOString() });
      expect(more[1]).toMatchObject({ topic: 'oms/v1/gw/gw-a/status', payload: 'online' });

      const list = await store.listGateways(10);
      expect(list).toEqual([
        { gatewayId: 'gw-a', status: 'online', firstSeen: T0, lastSeen: T0 + 80_000, changedAt: T0 + 81_000 },
        { gatewayId: 'gw-b', status: 'online', firstSeen: T0 + 2_000, lastSeen: T0 + 50_000, changedAt: T0 + 3_000 },
      ]);
    });

    it('a later scan never moves last seen backwards', async () => {
      await add(store, { gatewayId: 'gw-a', createdAt: T0 + 5_000 });
      await store.checkGateways(T0, T0 + 6_000, SILENT);
      await store.checkGateways(T0 - 100_000, T0 + 7_000, SILENT);
      expect((await store.listGateways(10))[0]?.lastSeen).toBe(T0 + 5_000);
    });
  });
}
