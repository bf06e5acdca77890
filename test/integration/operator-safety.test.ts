import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_KEY, GW_KEY, OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

const ADMIN = 'prod-admin-token-for-tests-0001';
const METRICS = 'metrics-token-for-tests-0001';

/** Issue 10, operator safety: one production-like app (APP_ENV=prod) for all checks. */
describe('operator safety in APP_ENV=prod (issue 10)', () => {
  let broker: TestBroker;
  let t: TestApp;

  const admin = (method: 'GET' | 'POST', url: string, opts: { token?: string; ip?: string; body?: unknown } = {}) =>
    t.app.http.inject({
      method, url, remoteAddress: opts.ip ?? '127.0.0.1',
      headers: { authorization: `Bearer ${opts.token ?? ADMIN}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(opts.body === undefined ? {} : { payload: JSON.stringify(opts.body) }),
    });

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({
      APP_ENV: 'prod', MQTT_URL: broker.url, PARSER: 'local', ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS,
      KEY_ENCRYPTION_SECRET: 'a-long-key-encryption-secret-for-tests', REPLAY_MAX: '2', INGEST_RATE_LIMIT: '2',
    });
  });
  afterAll(async () => {
    await t.stop();
    await broker.stop();
  });

  it('refuses ?sync=true without ALLOW_SYNC, before storing anything', async () => {
    const res = await post(t.app, { gateway_id: 'sync-gw', raw_hex: OMS_EXAMPLE }, { query: '?sync=true' });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('sync_disabled');
    const list = await admin('GET', '/v1/admin/telegrams?gateway_id=sync-gw');
    expect(list.json().items).toEqual([]);
  });

  it('counts malformed requests against the rate limit of the key that sent them', async () => {
    const bad = { gateway_id: t.gatewayId, raw_hex: 'zz' };
    expect((await post(t.app, bad, { key: GW_KEY })).status).toBe(400);
    expect((await post(t.app, bad, { key: GW_KEY })).status).toBe(400);
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE }, { key: GW_KEY });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('replay touches at most REPLAY_MAX telegrams, says how many remain and which cannot be decrypted again', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(t.app, { gateway_id: `replay-gw-${i}`, raw_hex: OMS_EXAMPLE, key_hex: OMS_KEY });
      expect(res.status).toBe(202);
      ids.push(res.json.ingest_id as string);
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const done = await admin('GET', '/v1/admin/telegrams?meter_id=12345678&status=done');
      if (done.json().items.length === 3 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = await admin('POST', '/v1/admin/telegrams:replay', { body: { meter_id: '12345678', status: 'done' } });
    expect(first.statusCode).toBe(200);
    // The inline keys were deleted when the jobs finished and the key store has none for this meter.
    expect(first.json()).toEqual({ replayed: 2, remaining: 1, limit: 2, undecryptable: 2, undecryptable_ingest_ids: ids.slice(0, 2) });
    const second = await admin('POST', '/v1/admin/telegrams:replay', { body: { meter_id: '12345678', status: 'done' } });
    expect(second.json()).toMatchObject({ replayed: 1, remaining: 0, undecryptable: 1, undecryptable_ingest_ids: [ids[2]] });
  });

  it('throttles failed admin logins per source address, even for the right token afterwards', async () => {
    for (let i = 0; i < 10; i++) expect((await admin('GET', '/v1/admin/keys', { token: `wrong-${i}`, ip: '10.9.9.9' })).statusCode).toBe(401);
    const blocked = await admin('GET', '/v1/admin/keys', { ip: '10.9.9.9' });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('login_throttled');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await admin('GET', '/v1/admin/keys', { ip: '10.9.9.10' })).statusCode).toBe(200);
  });

  it('/metrics compares its token in constant time and still tells right from wrong', async () => {
    const get = (auth?: string) => t.app.http.inject({ method: 'GET', url: '/metrics', headers: auth ? { authorization: auth } : {} });
    expect((await get(`Bearer ${METRICS}`)).statusCode).toBe(200);
    for (const auth of [undefined, `Bearer ${METRICS}x`, `Bearer ${METRICS.slice(0, -1)}`, `Bearer ${GLOBAL_KEY}`]) {
      expect((await get(auth)).statusCode, String(auth)).toBe(401);
    }
  });

  it('/healthz and /readyz show database error text only to the admin', async () => {
    // An own property shadows the store's method (defined read-only on its prototype).
    Object.defineProperty(t.app.store, 'ping', {
      configurable: true,
      value: async () => {
        throw new Error('SQLITE_CANTOPEN: unable to open /srv/secret-path/bridge.db');
      },
    });
    try {
      for (const url of ['/healthz', '/readyz']) {
        const anonymous = await t.app.http.inject({ method: 'GET', url });
        expect(anonymous.statusCode).toBe(503);
        expect(anonymous.json().database).toEqual({ ok: false, writable: false });
        expect(anonymous.body).not.toContain('secret-path');
        const asAdmin = await t.app.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
        expect(asAdmin.json().database.error).toContain('secret-path');
      }
    } finally {
      delete (t.app.store as { ping?: unknown }).ping;
    }
  });
});
