import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { Collector, startTestBroker } from '../helpers/mqtt.js';

// Written by landed versions with test/fixtures/upgrade/make-db.ts.txt (a1863ba: schema 2; cfcc795, the
// version before the key-problems, readings-index, gateways and merge migrations: schema 5): one telegram
// done (reading still in the outbox), one claimed by a process that died, one queued, and the meter's key
// in the key store, sealed with the secret below.
const FIXTURES = [
  { commit: 'a1863ba', done: '01a236a0-26f6-7fed-9228-c291cb3b0aca' },
  { commit: 'cfcc795', done: '01a237ce-852c-72cd-a15d-0bb8f7ed2b16' },
];
const CLAIMED = '0190aaaa-0000-7000-8000-000000000002';
const QUEUED = '0190aaaa-0000-7000-8000-000000000003';
const ADMIN = 'admin-token-0123456789abcdef';

describe.each(FIXTURES)('upgrade from $commit', ({ commit, done: DONE }) => {
  it('opens a database of a landed version and finishes its work: outbox, a dead process\'s lease, the queue, sealed keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-upgrade-'));
    copyFileSync(new URL(`../fixtures/upgrade/bridge-${commit}.db`, import.meta.url), join(dir, 'bridge.db'));
    const broker = await startTestBroker();
    const mqtt = await Collector.connect(broker.url, ['oms/v1/gw/+/meter/+/reading']);
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', KEY_ENCRYPTION_SECRET: 'upgrade-test-secret-0123456789', ADMIN_TOKEN: ADMIN }, { dir });
    try {
      const ours = () => mqtt.messages.filter((m) => [DONE, CLAIMED, QUEUED].includes(m.json.ingest_id as string));
      await mqtt.waitFor(() => new Set(ours().map((m) => m.json.ingest_id)).size === 3, 20_000);
      for (const m of ours()) {
        expect(m.json).toMatchObject({ schema: 'oms.bridge.v1', meter: { id: '12345678' } });
        expect((m.json.values as unknown[]).length).toBeGreaterThan(0);
      }
      const res = await t.app.http.inject({ method: 'GET', url: `/v1/admin/telegrams/${QUEUED}`, headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'done', attempts: 1 });
      const keys = await t.app.http.inject({ method: 'GET', url: '/v1/admin/keys', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(keys.json().items).toEqual([expect.objectContaining({ meter_id: '12345678' })]);
    } finally {
      await mqtt.close();
      await t.stop();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
