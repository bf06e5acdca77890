import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_KEY, GW_KEY, OMS_EXAMPLE, OMS_KEY, post, startTestApp, type TestApp } from '../helpers/app.js';
import { Collector, startTestBroker, type TestBroker } from '../helpers/mqtt.js';

const ADMIN = 'admin-token-for-tests-0001';
/** Lobaro's KeyIdentifier for the OMS example key (shared/lobaro-api.md §2.1). */
const OMS_KEY_ID = '6CDF4E13B88E3B890A803C4EECF8B89D60916C2E4E3C5CB32818F06A56BB60B5';
const SECRET = 'a-long-key-encryption-secret-for-tests';

describe('admin API', () => {
  let broker: TestBroker;
  let t: TestApp;
  let mqtt: Collector;
  const bodies: string[] = [];

  const admin = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.http.inject({
      method, url, headers: { authorization: `Bearer ${ADMIN}`, ...(payload !== undefined && typeof payload !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    bodies.push(res.body);
    return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as any) : undefined, headers: res.headers };
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    t = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, KEY_ENCRYPTION_SECRET: SECRET, PARSER: 'local', PIPELINE_THREAD: 'true' });
    mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
  });
  afterAll(async () => {
    await mqtt.close();
    await t.stop();
    await broker.stop();
  });

  it('401 without a token, with a gateway key, with a wrong token', async () => {
    for (const auth of [undefined, `Bearer ${GW_KEY}`, `Bearer ${GLOBAL_KEY}`, 'Bearer wrong-token', ADMIN]) {
      const res = await t.app.http.inject({ method: 'GET', url: '/v1/admin/keys', headers: auth ? { authorization: auth } : {} });
      expect(res.statusCode, String(auth)).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('keys: PUT, GET shows key_id (Lobaro KeyIdentifier), never the key; DELETE', async () => {
    const put = await admin('PUT', '/v1/admin/keys/12345678', { key_hex: OMS_KEY.toLowerCase(), manufacturer: 'els' });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ meter_id: '12345678', manufacturer: 'ELS', key_id: OMS_KEY_ID });
    const get = await admin('GET', '/v1/admin/keys/12345678');
    expect(get.json).toEqual({ meter_id: '12345678', manufacturer: 'ELS', key_id: OMS_KEY_ID, updated_at: expect.any(String) });
    expect((await admin('PUT', '/v1/admin/keys/99', { key_hex: 'abc' })).status).toBe(400);
    expect((await admin('PUT', '/v1/admin/keys/a%2Fb', { key_hex: OMS_KEY })).status).toBe(400);
    await admin('PUT', '/v1/admin/keys/delete-me', { key_hex: OMS_KEY });
    expect((await admin('DELETE', '/v1/admin/keys/delete-me')).status).toBe(204);
    expect((await admin('DELETE', '/v1/admin/keys/delete-me')).status).toBe(404);
    expect((await admin('GET', '/v1/admin/keys/delete-me')).status).toBe(404);
  });

  it('keys:import takes CSV and JSON; bad rows never stop good ones', async () => {
    const csv = ['imp-1;000102030405060708090a0b0c0d0e0f;KAM', 'imp-2;zz', ';000102030405060708090a0b0c0d0e0f', 'imp-3;000102030405060708090A0B0C0D0E0F'].join('\n');
    const res = await admin('POST', '/v1/admin/keys:import', csv, { 'content-type': 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.json.imported).toBe(2);
    expect(res.json.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false, false, true]);
    expect(res.json.results[1].error).toMatch(/key_hex/);
    const json = await admin('POST', '/v1/admin/keys:import', [{ meter_id: 'imp-4', key_hex: '000102030405060708090a0b0c0d0e0f' }, { meter_id: 'imp/5', key_hex: 'x' }]);
    expect(json.json).toMatchObject({ imported: 1, results: [{ row: 1, ok: true }, { row: 2, ok: false }] });
  });

  it('pages lists with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await admin('GET', `/v1/admin/keys?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.json.items.length).toBeLessThanOrEqual(1);
      seen.push(...res.json.items.map((k: { meter_id: string }) => k.meter_id));
      cursor = res.json.next_cursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['12345678', 'imp-1', 'imp-3', 'imp-4']));
    expect(pages).toBeGreaterThanOrEqual(3);
    expect((await admin('GET', '/v1/admin/keys?limit=1001')).status).toBe(400);
    expect((await admin('GET', '/v1/admin/keys?limit=0')).status).toBe(400);
    const bad = await admin('GET', '/v1/admin/keys?cursor=garbage!');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_cursor');
  });

  it('key missing → listed → key stored → replay → reading published with the same ingest_id and replay:true', async () => {
    await admin('DELETE', '/v1/admin/keys/12345678');
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: OMS_EXAMPLE, rssi_dbm: -70 });
    const id = res.json.ingest_id as string;
    await mqtt.waitFor((m) => m.some((x) => x.topic === `oms/v1/gw/${t.gatewayId}/errors/${id}`));
    expect(mqtt.messages.find((x) => x.topic.endsWith(`/errors/${id}`))?.json.error).toMatchObject({ code: 'decrypt_key_missing' });

    const missing = await admin('GET', '/v1/admin/meters?status=key_missing');
    expect(missing.json.items).toEqual([expect.objectContaining({ meter_id: '12345678', manufacturer: 'ELS', count: 1, gateways: [t.gatewayId] })]);
    const detail = await admin('GET', `/v1/admin/telegrams/${id}`);
    expect(detail.json).toMatchObject({ ingest_id: id, status: 'error', error_code: 'decrypt_key_missing', attempts: 1, result: { error: { code: 'decrypt_key_missing' } } });

    await admin('PUT', '/v1/admin/keys/12345678', { key_hex: OMS_KEY });
    expect((await admin('GET', '/v1/admin/meters?status=key_missing')).json.items).toEqual([]);
    expect((await admin('POST', '/v1/admin/telegrams:replay', {})).status).toBe(400);
    const replay = await admin('POST', '/v1/admin/telegrams:replay', { error_code: 'decrypt_key_missing', meter_id: '12345678' });
    expect(replay.json).toMatchObject({ replayed: 1, remaining: 0, undecryptable: 0, undecryptable_ingest_ids: [] });
    await mqtt.waitFor((m) => m.some((x) => x.topic === `oms/v1/gw/${t.gatewayId}/meter/12345678/reading`));
    const reading = mqtt.messages.find((x) => x.topic.endsWith('/meter/12345678/reading'))!;
    expect(reading.json).toMatchObject({ ingest_id: id, replay: true, parser: 'local', meter: { id: '12345678', manufacturer: 'ELS' } });
    expect(JSON.stringify(reading.json.values)).toContain('28504.27');
    const after = await admin('GET', `/v1/admin/telegrams/${id}`);
    expect(after.json).toMatchObject({ status: 'done', published_at: expect.any(String) });
  });

  it('key problems: each reason per meter with detail and no key text, filter by kind, metric; a stored key clears the entry', async () => {
    // The OMS example under other meter ids (new telegrams for dedup; only block 1 of CBC sees the id, 2F2F survives it).
    const withId = (id: string) => `${OMS_EXAMPLE.slice(0, 8)}${id}${OMS_EXAMPLE.slice(16)}`;
    const cut = (hex: string) => `18${hex.slice(2, hex.length - 44)}`;
    const OTHER_KEY = '000102030405060708090A0B0C0D0E0F';
    await admin('PUT', '/v1/admin/keys/11223344', { key_hex: OTHER_KEY });
    await admin('PUT', '/v1/admin/keys/55667788', { key_hex: OMS_KEY });
    const ids: string[] = [];
    for (const raw of [withId('21436587'), withId('44332211'), cut(withId('88776655'))]) {
      ids.push((await post(t.app, { gateway_id: t.gatewayId, raw_hex: raw })).json.ingest_id as string);
    }
    await mqtt.waitFor((m) => ids.every((id) => m.some((x) => x.topic === `oms/v1/gw/${t.gatewayId}/errors/${id}`)));

    const all = await admin('GET', '/v1/admin/key-problems');
    expect(all.status).toBe(200);
    const byMeter = Object.fromEntries(all.json.items.map((i: { meter_id: string }) => [i.meter_id, i]));
    expect(byMeter['87654321']).toEqual({
      meter_id: '87654321', manufacturer: 'ELS', problem: 'key_missing', detail: expect.stringContaining('no AES key'), count: 1,
      first_seen: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/), last_seen: expect.any(String), gateways: [t.gatewayId],
    });
    expect(byMeter['11223344']).toMatchObject({ problem: 'wrong_key', detail: expect.stringContaining('2F2F'), count: 1, gateways: [t.gatewayId] });
    expect(byMeter['55667788']).toMatchObject({ problem: 'truncated', detail: expect.stringContaining('blocks'), count: 1 });
    for (const key of [OMS_KEY, OTHER_KEY]) expect(JSON.stringify(all.json).toUpperCase()).not.toContain(key);

    const wrong = await admin('GET', '/v1/admin/key-problems?problem=wrong_key');
    expect(wrong.json.items.map((i: { meter_id: string }) => i.meter_id)).toEqual(['11223344']);
    expect((await admin('GET', '/v1/admin/key-problems?problem=bogus')).status).toBe(400);
    const paged = await admin('GET', '/v1/admin/key-problems?limit=1');
    expect(paged.json.items).toHaveLength(1);
    expect(paged.json.next_cursor).toEqual(expect.any(String));
    // The older list keeps its shape and shows only key_missing.
    const missing = await admin('GET', '/v1/admin/meters?status=key_missing');
    expect(missing.json.items.map((i: { meter_id: string }) => i.meter_id)).toEqual(['87654321']);
    expect(missing.json.items[0].problem).toBeUndefined();

    const metrics = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/oms_bridge_key_problem_meters\{problem="wrong_key"\} 1/);
    expect(metrics).toMatch(/oms_bridge_key_problem_meters\{problem="truncated"\} 1/);

    await admin('PUT', '/v1/admin/keys/11223344', { key_hex: OMS_KEY });
    const left = await admin('GET', '/v1/admin/key-problems');
    expect(left.json.items.map((i: { meter_id: string }) => i.meter_id)).not.toContain('11223344');
    expect(left.json.items.map((i: { meter_id: string }) => i.meter_id)).toEqual(expect.arrayContaining(['87654321', '55667788']));
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/admin/key-problems' })).statusCode).toBe(401);
  });

  it('telegram list filters and pages', async () => {
    const list = await admin('GET', `/v1/admin/telegrams?gateway_id=${t.gatewayId}&status=done`);
    expect(list.json.items.length).toBeGreaterThanOrEqual(1);
    for (const item of list.json.items) expect(item).toMatchObject({ gateway_id: t.gatewayId, status: 'done' });
    const none = await admin('GET', `/v1/admin/telegrams?gateway_id=${t.gatewayId}&since=2099-01-01T00:00:00Z`);
    expect(none.json.items).toEqual([]);
    expect((await admin('GET', '/v1/admin/telegrams?since=yesterday')).status).toBe(400);
    expect((await admin('GET', '/v1/admin/telegrams/nope')).status).toBe(404);
  });

  it('mappings: PUT validates, stores a version, the next job uses it; versions and rollback', async () => {
    expect((await admin('PUT', '/v1/admin/mappings/active', { mappings: [{ gas: { currentValueIdx: 'x' } }] })).status).toBe(400);
    const put = await admin('PUT', '/v1/admin/mappings/active', {
      mappings: [{ comment: 'Elster gas', filter: { manafacture: 'ELS', type: '03' }, gas: { currentValueIdx: 0 } }],
    });
    expect(put.json).toMatchObject({ version: 2, active: true });
    // The same telegram with its frame-format-A CRCs: a new telegram for dedup, the same values.
    const withCrc = '2e44931578563412330333637a2a0020055923c95aaa26d1b2e7493b2a8b013ec4a6f6d3529b520edff0ea6defc955b29d6d69ebf3ec8a';
    const res = await post(t.app, { gateway_id: t.gatewayId, raw_hex: withCrc, key_hex: OMS_KEY }, { query: '?sync=true' });
    expect(res.json.local.metering_domain_model).toMatchObject({ meterId: '12345678', currentValue: { value: 28504.27 } });
    expect(res.json.values).toEqual([expect.objectContaining({ name: 'currentValue', value: 28504.27, unit: 'm^3' })]);

    const versions = await admin('GET', '/v1/admin/mappings/versions');
    expect(versions.json.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await admin('POST', '/v1/admin/mappings/versions/1:activate')).json).toMatchObject({ version: 1, active: true });
    expect((await admin('GET', '/v1/admin/mappings/active')).json.mappings).toEqual({ mappings: [] });
    expect((await admin('POST', '/v1/admin/mappings/versions/99:activate')).status).toBe(404);
  });

  it('audit records every change with the token fingerprint and no key material', async () => {
    const audit = await admin('GET', '/v1/admin/audit?limit=1000');
    const actions = audit.json.items.map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['key.put', 'key.delete', 'keys.import', 'mapping.put', 'mapping.activate', 'telegrams.replay']));
    for (const a of audit.json.items) expect(a.actor).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gateways view: last seen, rate, mean RSSI, rejected count', async () => {
    await post(t.app, { gateway_id: t.gatewayId, raw_hex: 'zz' }, { key: GW_KEY });
    const res = await admin('GET', '/v1/admin/gateways');
    const gw = res.json.items.find((g: { gateway_id: string }) => g.gateway_id === t.gatewayId);
    expect(gw).toMatchObject({ telegrams_per_min: expect.any(Number), rejected: 1, last_seen: expect.any(String) });
    expect(gw.telegrams_last_hour).toBeGreaterThanOrEqual(2);
  });

  it('/metrics parses as Prometheus text with the oms_bridge_* families', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const names = new Set((parsePrometheus(res.body) as Array<{ name: string }>).map((f) => f.name));
    for (const n of ['oms_bridge_ingest_requests_total', 'oms_bridge_ingest_ack_seconds', 'oms_bridge_ingest_dedup_hits_total', 'oms_bridge_queue_depth',
      'oms_bridge_worker_jobs_total', 'oms_bridge_outbox_depth', 'oms_bridge_outbox_oldest_age_seconds', 'oms_bridge_mqtt_connected',
      'oms_bridge_mqtt_published_total', 'oms_bridge_key_missing_meters', 'oms_bridge_key_problem_meters', 'oms_bridge_process_cpu_seconds_total']) {
      expect(names.has(n), n).toBe(true);
    }
  });

  it('/docs/json is OpenAPI 3 describing the gateway and admin APIs', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/docs/json' });
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/telegrams', '/v1/admin/keys', '/v1/admin/keys/{meter_id}', '/v1/admin/telegrams/{ingest_id}', '/healthz', '/readyz', '/metrics']) {
      expect(Object.keys(doc.paths), p).toContain(p);
    }
    expect(doc.paths['/v1/admin/keys'].get.security).toEqual([{ adminToken: [] }]);
    expect((await t.app.http.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('no answer, log line or MQTT message contains the key; the database file does not either', async () => {
    const needles = [OMS_KEY.toLowerCase(), '000102030405060708090a0b0c0d0e0f'];
    const haystacks = [...bodies, ...t.logs, ...mqtt.messages.map((m) => m.payload)].map((s) => s.toLowerCase());
    for (const n of needles) for (const h of haystacks) expect(h.includes(n)).toBe(false);
    const files = readdirSync(t.dir).filter((f) => f.startsWith('bridge.db'));
    for (const f of files) {
      const bytes = readFileSync(join(t.dir, f)).toString('latin1').toLowerCase();
      for (const n of needles) expect(bytes.includes(n), f).toBe(false);
    }
  });
});

describe('key store at rest', () => {
  it('refuses to start with another KEY_ENCRYPTION_SECRET, or without one, on a database written with one', async () => {
    const broker = await startTestBroker();
    const first = await startTestApp({ MQTT_URL: broker.url, KEY_ENCRYPTION_SECRET: SECRET }, { dir: undefined });
    await first.app.stop();
    await expect(startTestApp({ MQTT_URL: broker.url, KEY_ENCRYPTION_SECRET: `${SECRET}-other` }, { dir: first.dir })).rejects.toMatchObject({ code: 'key_vault_mismatch' });
    await expect(startTestApp({ MQTT_URL: broker.url }, { dir: first.dir })).rejects.toMatchObject({ code: 'key_vault_locked' });
    const again = await startTestApp({ MQTT_URL: broker.url, KEY_ENCRYPTION_SECRET: SECRET }, { dir: first.dir });
    await again.stop();
    await first.stop();
    await broker.stop();
  });
});

describe('turning encryption at rest on later', () => {
  it('encrypts keys stored before KEY_ENCRYPTION_SECRET was set, in place, and they keep working', async () => {
    const broker = await startTestBroker();
    const plain = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN });
    await plain.app.http.inject({
      method: 'PUT', url: '/v1/admin/keys/12345678', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ key_hex: OMS_KEY }),
    });
    await plain.app.stop();
    const sealed = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, KEY_ENCRYPTION_SECRET: SECRET }, { dir: plain.dir });
    try {
      const key = await sealed.app.http.inject({ method: 'GET', url: '/v1/admin/keys/12345678', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(key.json().key_id).toBe(OMS_KEY_ID);
      const res = await post(sealed.app, { gateway_id: sealed.gatewayId, raw_hex: OMS_EXAMPLE }, { query: '?sync=true' });
      expect(JSON.stringify(res.json.values)).toContain('28504.27');
      await sealed.app.stop();
      for (const f of readdirSync(plain.dir).filter((n) => n.startsWith('bridge.db'))) {
        expect(readFileSync(join(plain.dir, f)).toString('latin1').toLowerCase().includes(OMS_KEY.toLowerCase()), f).toBe(false);
      }
    } finally {
      await sealed.stop();
      await plain.stop();
      await broker.stop();
    }
  });
});

describe('per-gateway rate limit', () => {
  it('answers 429 with Retry-After over INGEST_RATE_LIMIT', async () => {
    const broker = await startTestBroker();
    const t = await startTestApp({ MQTT_URL: broker.url, INGEST_RATE_LIMIT: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await post(t.app, { gateway_id: t.gatewayId, raw_hex: `${OMS_EXAMPLE}0${i}` }));
      expect(statuses.map((s) => s.status)).toEqual([202, 202, 429, 429]);
      expect(statuses[2]!.headers['retry-after']).toBe('1');
      expect(statuses[2]!.json.error.code).toBe('rate_limited');
      expect((await post(t.app, { gateway_id: 'another-gw', raw_hex: OMS_EXAMPLE })).status).toBe(202);
    } finally {
      await t.stop();
      await broker.stop();
    }
  });
});
