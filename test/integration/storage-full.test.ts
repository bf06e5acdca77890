import { describe, expect, it } from 'vitest';
import { GLOBAL_KEY, post, startTestApp } from '../helpers/app.js';
import { KillableBroker } from '../helpers/killable-broker.js';
import { uniqueTelegram } from '../helpers/load.js';
import { freePort } from '../helpers/process.js';

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('database full', () => {
  it('answers 503 storage_full with Retry-After, is not ready, loses nothing and recovers by itself when space returns', async () => {
    // The broker is down, so the outbox keeps every message and the database fills up.
    const broker = new KillableBroker(await freePort());
    const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'local', SQLITE_MAX_SIZE_MB: '1', JOB_LEASE_S: '2' });
    try {
      const accepted: string[] = [];
      let refused: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 20_000 && !refused; i++) {
        const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: uniqueTelegram(i, 7) }, { key: GLOBAL_KEY });
        if (res.status === 202) accepted.push(res.json.ingest_id as string);
        else refused = res;
      }
      expect(accepted.length).toBeGreaterThan(50);
      expect(refused?.status).toBe(503);
      expect(refused?.json.error).toMatchObject({ code: 'storage_full' });
      expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
      // Every later caller gets the same clear answer, never "no transaction is active".
      const again = await Promise.all(Array.from({ length: 20 }, (_, i) => post(t.app, { gateway_id: t.gatewayId, raw_hex: uniqueTelegram(50_000 + i, 7) })));
      for (const r of again) expect([202, 503]).toContain(r.status);
      for (const r of again.filter((x) => x.status === 503)) expect(r.json.error.code).toBe('storage_full');
      accepted.push(...again.filter((r) => r.status === 202).map((r) => r.json.ingest_id as string));

      const ready = await t.app.http.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not_ready', database: { ok: true, writable: false } });
      expect((await t.app.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200); // alive: a restart would not free space

      // Space returns: the broker comes back, the outbox drains and frees pages.
      await broker.start();
      await until(async () => {
        const d = await t.app.store.depths();
        return d.queue === 0 && d.outbox === 0;
      }, 60_000);
      for (const id of accepted) expect((await t.app.store.getTelegram(id))?.status, id).toBe('done');
      await until(async () => (await t.app.http.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 15_000);
      const after = await post(t.app, { gateway_id: t.gatewayId, raw_hex: uniqueTelegram(90_000, 7) });
      expect(after.status).toBe(202);
    } finally {
      await t.stop();
      await broker.stop();
    }
  }, 120_000);
});
