import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
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

  const admin = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
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
      MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, PARSER: 'local', PIPELINE_THREAD: 'true', ENABLE_DEDUP: 'false',
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
    // Outcomes and meter rows arrive from the pipeline (thread) a moment after the telegram's row is final.
    const total = (o: { ingest: { per_minute: Record<string, number>[] } }, k: 'accepted' | 'done' | 'error') =>
      o.ingest.per_minute.reduce((s, m) => s + m[k]!, 0);
    let o = (await admin('GET', '/v1/admin/overview')).json;
    for (let i = 0; i < 100 && (total(o, 'done') + total(o, 'error') < 2 || o.meters.ok + o.meters.key_problem < 2); i++) {
      await new Promise((r) => setTimeout(r, 50));
      o = (await admin('GET', '/v1/admin/overview')).json;
    }
    expect(o.ingest.last_minute).toBe(2);
    expect(o.ingest.per_minute).toHaveLength(60);
    expect([total(o, 'accepted'), total(o, 'done'), total(o, 'error')]).toEqual([2, 1, 1]);
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

  it('meters: search by id prefix, type, driver, last values, gateways with RSSI', async () => {
    const res = await admin('GET', '/v1/admin/meters?q=3322');
    expect(res.status).toBe(200);
    expect(res.json.items).toHaveLength(1);
    const m = res.json.items[0];
    expect(m).toMatchObject({ meter_id: '33225544', status: 'ok', parser: 'local', driver: expect.any(String), device_type: 7, type: expect.any(String) });
    expect(m.gateways).toEqual([{ gateway_id: t.gatewayId, rssi_dbm: -71, at: expect.any(String) }]);
    expect(m.last_reading.values.length).toBeGreaterThan(0);
    expect(m.last_reading.values[0]).toMatchObject({ name: expect.any(String), unit: expect.any(String) });
    const problem = await admin('GET', '/v1/admin/meters?q=1234&status=key_problem');
    expect(problem.json.items.map((x: { meter_id: string }) => x.meter_id)).toEqual(['12345678']);
    expect(problem.json.items[0].last_reading).toBeNull();
    expect((await admin('GET', '/v1/admin/meters?q=nobody')).json.items).toEqual([]);
    expect((await admin('GET', '/v1/admin/meters?q=a%25b')).status).toBe(400);
    expect((await admin('GET', '/v1/admin/meters?q=1&status=key_missing')).status).toBe(400);
    const one = await admin('GET', '/v1/admin/meters/33225544');
    expect(one.json.last_reading).toEqual(m.last_reading);
  });

  it('meters/:id/readings: values over time from stored telegrams, oldest first, by window and limit', async () => {
    const first = (await admin('GET', '/v1/admin/meters/33225544/readings')).json.items.length;
    expect(first).toBe(1);
    await postFinished(PLAIN);
    await postFinished(PLAIN);
    const all = await admin('GET', '/v1/admin/meters/33225544/readings');
    expect(all.status).toBe(200);
    expect(all.json.items).toHaveLength(3);
    expect(all.json.truncated).toBe(false);
    const ats = all.json.items.map((r: { at: string }) => Date.parse(r.at));
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
    expect(all.json.items[0].values).toEqual(all.json.items[2].values);
    const last = await admin('GET', '/v1/admin/meters/33225544/readings?limit=2');
    expect(last.json.items.map((r: { ingest_id: string }) => r.ingest_id)).toEqual(all.json.items.slice(1).map((r: { ingest_id: string }) => r.ingest_id));
    expect(last.json.truncated).toBe(true);
    const since = encodeURIComponent(all.json.items[2].at);
    expect((await admin('GET', `/v1/admin/meters/33225544/readings?since=${since}`)).json.items).toHaveLength(1);
    expect((await admin('GET', `/v1/admin/meters/33225544/readings?until=${since}`)).json.items).toHaveLength(2);
    expect((await admin('GET', '/v1/admin/meters/12345678/readings')).json.items).toEqual([]);
    expect((await admin('GET', '/v1/admin/meters/33225544/readings?since=yesterday')).status).toBe(400);
  });

  it('decode: the inspector lays out a pasted telegram, decrypts with a given key, stores nothing, never echoes the key', async () => {
    const before = (await admin('GET', '/v1/admin/telegrams?limit=1000')).json.items.length;
    const res = await admin('POST', '/v1/admin/decode', { hex: OMS_EXAMPLE, key: OMS_KEY });
    expect(res.status).toBe(200);
    const d = res.json;
    expect(d).toMatchObject({
      ok: true, error: null, key_diagnosis: null, hex: OMS_EXAMPLE, crc_removed: false,
      meter: { id: '12345678', manufacturer: 'ELS', device_type: 3 },
      security: { mode: 5, encrypted: true, decrypted: true, authenticated: true, default_key_used: false },
      layers: [{ name: 'dll', start: 0, end: 10 }, { name: 'tpl', start: 10, end: 15 }, { name: 'records', start: 15, end: 47 }],
    });
    expect(d.plain_hex.slice(30, 34)).toBe('2f2f');
    expect(d.records[0]).toMatchObject({ start: 17, end: 23, data_start: 19, dif: '0c', vif: '14', value: 28504.27, unit: 'm^3', storage: 0, tariff: 0 });
    expect(d.records[0].description).toMatch(/Volume/);
    expect(d.values[0]).toMatchObject({ name: 'volume', value: 28504.27, unit: 'm^3' });
    expect(d.wmbus.IdString).toBe('12345678');
    expect(res.body.toLowerCase()).not.toContain(OMS_KEY.toLowerCase());
    expect(res.body).not.toMatch(/KeyIdentifier/);

    const missing = (await admin('POST', '/v1/admin/decode', { hex: OMS_EXAMPLE })).json;
    expect(missing).toMatchObject({ ok: false, key_diagnosis: { problem: 'key_missing' }, security: { decrypted: false }, records: [], values: [] });
    expect(missing.layers.at(-1)).toEqual({ name: 'encrypted', start: 15, end: 47 });
    const wrongKey = '00112233445566778899aabbccddeeff';
    const wrong = await admin('POST', '/v1/admin/decode', { hex: OMS_EXAMPLE, key: wrongKey });
    expect(wrong.json).toMatchObject({ ok: false, key_diagnosis: { problem: 'wrong_key' } });
    expect(wrong.body).not.toContain(wrongKey);
    const refused = await admin('POST', '/v1/admin/decode', { hex: '0102' });
    expect(refused.json).toMatchObject({ ok: false, error: { code: expect.any(String) }, meter: null, layers: [] });

    expect((await admin('POST', '/v1/admin/decode', { hex: 'xyz' })).status).toBe(400);
    expect((await admin('POST', '/v1/admin/decode', { hex: OMS_EXAMPLE, key: 'short' })).status).toBe(400);
    expect((await admin('POST', '/v1/admin/decode', { hex: OMS_EXAMPLE, extra: 1 })).status).toBe(400);
    expect((await t.app.http.inject({ method: 'POST', url: '/v1/admin/decode', payload: { hex: OMS_EXAMPLE } })).statusCode).toBe(401);

    expect((await admin('GET', '/v1/admin/telegrams?limit=1000')).json.items.length).toBe(before);
    const audit = (await admin('GET', '/v1/admin/audit?limit=20')).json.items.filter((a: { action: string }) => a.action === 'telegram.decode');
    expect(audit.length).toBe(4);
    expect(audit[audit.length - 1]).toMatchObject({ target: '12345678', details: { bytes: 47, key_given: true, ok: true } });
    const auditText = JSON.stringify(audit).toLowerCase();
    for (const secret of [OMS_KEY.toLowerCase(), wrongKey, OMS_EXAMPLE.slice(20)]) expect(auditText).not.toContain(secret);
    const logText = t.logs.join('').toLowerCase();
    for (const secret of [OMS_KEY.toLowerCase(), wrongKey]) expect(logText).not.toContain(secret);
  });

  it('keys:import?dry_run=true previews the matches and stores nothing', async () => {
    const key = '000102030405060708090a0b0c0d0e0f';
    const csv = [`12345678;${key};ELS`, `33225544;${key}`, `never-heard;${key}`, 'bad-row;zz', `12345678;${key}`].join('\n');
    const res = await admin('POST', '/v1/admin/keys:import?dry_run=true', csv, { 'content-type': 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      imported: 0, dry_run: true,
      summary: { valid: 4, invalid: 1, key_problem: 2, known: 1, unknown: 1, replaces_key: 0 },
      results: [
        { row: 1, meter_id: '12345678', ok: true, match: 'key_problem', meter_status: 'key_problem', key_missing: true, has_key: false },
        { row: 2, meter_id: '33225544', ok: true, match: 'known', meter_status: 'ok', key_missing: false, has_key: false },
        { row: 3, meter_id: 'never-heard', ok: true, match: 'unknown', meter_status: null, has_key: false },
        { row: 4, meter_id: 'bad-row', ok: false, error: expect.stringMatching(/key_hex/) },
        { row: 5, meter_id: '12345678', ok: true, match: 'key_problem', duplicate_of_row: 1 },
      ],
    });
    expect(res.json.results[0].duplicate_of_row).toBeUndefined();
    expect(res.body).not.toContain(key);
    expect((await admin('GET', '/v1/admin/keys')).json.items).toEqual([]);
    // JSON bodies preview the same way; a stored key shows as has_key.
    expect((await admin('POST', '/v1/admin/keys:import', [{ meter_id: '33225544', key_hex: key }])).json.imported).toBe(1);
    const again = await admin('POST', '/v1/admin/keys:import?dry_run=true', [{ meter_id: '33225544', key_hex: key }]);
    expect(again.json.results[0]).toMatchObject({ match: 'known', has_key: true });
    expect(again.json.summary.replaces_key).toBe(1);
    const audit = (await admin('GET', '/v1/admin/audit?limit=50')).json.items;
    expect(audit.filter((a: { action: string }) => a.action === 'keys.import_preview')).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('telegrams/:id/inspect: a stored telegram through the inspector, with the stored key once there is one', async () => {
    const failed = (await admin('GET', '/v1/admin/telegrams?meter_id=12345678&status=error')).json.items[0];
    expect(failed.raw_hex).toBe(OMS_EXAMPLE);
    const before = await admin('GET', `/v1/admin/telegrams/${failed.ingest_id}/inspect`);
    expect(before.status).toBe(200);
    expect(before.json).toMatchObject({ ingest_id: failed.ingest_id, key_source: 'none', ok: false, key_diagnosis: { problem: 'key_missing' }, hex: OMS_EXAMPLE });
    expect((await admin('PUT', '/v1/admin/keys/12345678', { key_hex: OMS_KEY })).status).toBe(200);
    const after = await admin('GET', `/v1/admin/telegrams/${failed.ingest_id}/inspect`);
    expect(after.json).toMatchObject({ key_source: 'stored', ok: true, key_diagnosis: null, security: { decrypted: true } });
    expect(after.json.values[0]).toMatchObject({ name: 'volume', value: 28504.27 });
    expect(after.body.toLowerCase()).not.toContain(OMS_KEY.toLowerCase());
    // Inspecting changed nothing: the telegram is still the failed one.
    expect((await admin('GET', `/v1/admin/telegrams/${failed.ingest_id}`)).json).toMatchObject({ status: 'error', error_code: 'decrypt_key_missing' });
    expect((await admin('GET', '/v1/admin/telegrams/no-such-id/inspect')).status).toBe(404);
    const audit = (await admin('GET', '/v1/admin/audit?limit=5')).json.items.find((a: { action: string }) => a.action === 'telegram.decode');
    expect(audit).toMatchObject({ target: '12345678', details: { ingest_id: failed.ingest_id, key_given: true, ok: true } });
  });

  it('OpenAPI describes every console endpoint with its response schema, behind the admin token', async () => {
    const doc = (await t.app.http.inject({ method: 'GET', url: '/docs/json' })).json();
    const ops = [
      ['/v1/admin/overview', 'get'], ['/v1/admin/overview/stream', 'get'], ['/v1/admin/meters', 'get'],
      ['/v1/admin/meters/{meter_id}/readings', 'get'], ['/v1/admin/decode', 'post'], ['/v1/admin/keys:import', 'post'],
      ['/v1/admin/telegrams/{ingest_id}/inspect', 'get'],
    ] as const;
    for (const [path, method] of ops) {
      const op = doc.paths[path]?.[method];
      expect(op, path).toBeDefined();
      expect(op.security, path).toEqual([{ adminToken: [] }]);
      expect(op.responses['200'], path).toBeDefined();
    }
    const schemaOf = (path: string, method: string) => doc.paths[path][method].responses['200'].content['application/json'].schema;
    expect(Object.keys(schemaOf('/v1/admin/overview', 'get').properties)).toEqual(expect.arrayContaining(['ingest', 'queue', 'outbox', 'lobaro_circuit', 'mqtt', 'meters', 'recent_errors']));
    expect(Object.keys(schemaOf('/v1/admin/decode', 'post').properties)).toEqual(expect.arrayContaining(['layers', 'records', 'security', 'key_diagnosis', 'values', 'hex']));
    expect(Object.keys(schemaOf('/v1/admin/meters/{meter_id}/readings', 'get').properties)).toEqual(['meter_id', 'items', 'truncated']);
    expect(doc.paths['/v1/admin/keys:import'].post.parameters.map((p: { name: string }) => p.name)).toContain('dry_run');
  });
});

describe('overview stream and shutdown', () => {
  it('an open overview stream ends when the bridge stops, and does not hold up the stop', async () => {
    const broker = await startTestBroker();
    const t = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, PARSER: 'local' });
    try {
      const res = await fetch(`${t.app.url}/v1/admin/overview/stream`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toMatch(/^event: overview\n/);
      const stopped = t.stop();
      // The stream closes (done) instead of waiting for the next event; then the stop completes.
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
      }
      await stopped;
    } finally {
      await t.stop();
      await broker.stop();
    }
  });
});
