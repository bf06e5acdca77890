import { describe, expect, it } from 'vitest';
import type { ThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import { GLOBAL_KEY, startTestApp } from '../helpers/app.js';
import { deliveries, runLoad } from '../helpers/load.js';
import { Collector, startTestBroker } from '../helpers/mqtt.js';

describe('SQLite writer thread', () => {
  it('a crash of the writer thread under load: answers stay 202 or 503, the writer comes back, every 202 ends on MQTT', async () => {
    const broker = await startTestBroker();
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', JOB_LEASE_S: '3' });
    const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
    let stop = false;
    const load = runLoad({ baseUrl: t.app.url, key: GLOBAL_KEY, gatewayId: t.gatewayId, concurrency: 4, pauseMs: 2, stop: () => stop, salt: 11 });
    try {
      await new Promise((r) => setTimeout(r, 700));
      await (t.app.store as ThreadedSqliteStore).killWriter();
      // The writer is back once a write goes through again; then keep loading a moment.
      const end = Date.now() + 30_000;
      while (Date.now() < end && !(await t.app.store.putSetting('probe', '1').then(() => true, () => false))) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1_000));
      stop = true;
      const { accepted, statuses } = await load;
      const codes = [...statuses.keys()];
      expect(codes.every((c) => c === 202 || c === 503), JSON.stringify([...statuses])).toBe(true);
      expect(accepted.length).toBeGreaterThan(5);
      await mqtt.waitFor((msgs) => {
        const d = deliveries(msgs);
        return accepted.every((id) => d.has(id));
      }, 60_000);
      expect(t.logs.some((l) => l.includes('SQLite writer thread exited; restarting'))).toBe(true);
      console.log(`writer crash: accepted ${accepted.length}, statuses ${JSON.stringify([...statuses])}`);
    } finally {
      stop = true;
      await load;
      await mqtt.close();
      await t.stop();
      await broker.stop();
    }
  }, 90_000);
});
