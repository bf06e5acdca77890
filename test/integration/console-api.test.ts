import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, post, startTestApp, type TestApp } from '../helpers/app.js';
import { PLAIN } from '../helpers/load.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** Issue 14 (backend half): the admin endpoints the operator console uses, through HTTP on both stores. */
const ADMIN = 'admin-token-for-console-tests';
const pgUrl = process.env.PG_TEST_URL;
const requireServices = process.env.REQUIRE_SERVICES === 'true';

if (!pgUrl && requireServices) {
  describe('console API on PostgreSQL', () => {
    it('needs PG_TEST_URL (REQUIRE_SERVICES=true makes this mandatory)', () => {
      expect.fail('PG_TEST_URL is not set');
    });
  });
}

const backends = [{ name: 'SQLite', pg: false }, ...(pgUrl ? [{ name: 'PostgreSQL', pg: true }] : [])];

describe.each(backends)('console API on $name', (backend) => {
  const schema = `oms_console_${randomBytes(4).toString('hex')}`;
  let broker: TestBroker;
  let t: TestApp;

  const admin = async (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.http.inject({
      method, url, headers: { authorization: `Bearer ${ADMIN}`, ...(payload !== undefined && typeof payload !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as any) : undefined, body: res.body };
  };
  /** Posts a telegram and waits (on its status, not on time) until the pipeline finished it. */
  const postFinished = async (raw: string, extra: Record<string, unknown> = {}) => {
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: raw, rssi_dbm: -71, ...extra });
    expect(res.status).toBe(202);
    const id = res.json.ingest_id as string;
    for (;;) {
      const got = await admin('GET', `/v1/admin/telegrams/${id}`);
      if (got.json?.status === 'done' || got.json?.status === 'error') return got.json;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({
      MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, PARSER: 'local', PIPELINE_THREAD: 'true',
      ...(backend.pg ? { DATABASE_URL: `${pgUrl}${pgUrl?.includes('?') ? '&' : '?'}schema=${schema}` } : {}),
    });
  });
  afterAll(async () => {
    await t?.stop();
    await broker?.stop();
    if (backend.pg) {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it('overview: rates, outcomes, recent errors with meter, meter counts, parser and MQTT state', async () => {
    const done = await postFinished(PLAIN);
    expect(done.status).toBe('done');
    const failed = await postFinished(OMS_EXAMPLE);
    expect(failed).toMatchObject({ status: 'error', error_code: 'decrypt_key_missing' });
    const res = await admin('GET', '/v1/admin/overview');
    expect(res.status).toBe(200);
    const o = res.json;
    expect(o.ingest.last_minute).toBe(2);
    expect(o.ingest.per_minute).toHaveLength(60);
    const total = (k: 'accepted' | 'done' | 'error') => o.ingest.per_minute.reduce((s: number, m: Record<string, number>) => s + m[k]!, 0);
    expect([total('accepted'), total('done'), total('error')]).toEqual([2, 1, 1]);
    expect(o.recent_errors[0]).toMatchObject({ code: 'decrypt_key_missing', meter_id: '12345678', ingest_id: failed.ingest_id });
    expect(o.recent_errors[0].message).toEqual(expect.any(String));
    expect(o).toMatchObject({ parser: 'local', lobaro_circuit: null, mqtt: { connected: true }, pipeline: { running: true } });
    expect(o.meters.ok + o.meters.key_problem).toBe(2);
    expect(o.queue.depth).toBeGreaterThanOrEqual(0);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/admin/overview' })).statusCode).toBe(401);
  });

  it('overview/stream: Server-Sent Events with the same body, behind the admin token', async () => {
    expect((await fetch(`${t.app.url}/v1/admin/overview/stream`)).status).toBe(401);
    const ac = new AbortController();
    const res = await fetch(`${t.app.url}/v1/admin/overview/stream`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    const [event, data] = text.split('\n');
    expect(event).toBe('event: overview');
    const body = JSON.parse(data!.replace(/^data: /, ''));
    expect(body).toMatchObject({ parser: 'local', ingest: { per_minute: expect.any(Array) } });
  });
});
