import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HaDiscovery } from '../../src/homeassistant/ha-discovery.js';
import { LivenessMonitor } from '../../src/liveness/liveness-monitor.js';
import { applySeen, median, staleAfterMs, type MeterSeen } from '../../src/liveness/meter-state.js';
import { EventBus } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { KeyResolver } from '../../src/parser/key-resolver.js';
import { LocalParser } from '../../src/parser/local/local-parser.js';
import { Topics } from '../../src/publish/topics.js';
import { KeyVault } from '../../src/security/key-vault.js';
import { MappingStore } from '../../src/store/mapping-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Job, OutboxRow } from '../../src/store/store.js';
import { JobProcessor } from '../../src/worker/job-processor.js';
import { OMS_EXAMPLE, OMS_KEY } from '../helpers/app.js';

const log = createLogger('silent');
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const POLICY = { intervals: 3, minMs: HOUR };

describe('meter state (pure)', () => {
  const s = (at: number, extra: Partial<MeterSeen> = {}): MeterSeen => ({ meterId: 'm', manufacturer: null, gatewayId: 'g', rssiDbm: null, at, errorCode: null, error: null, ingestId: 'i', ...extra });

  it('median of gaps; the stale threshold is the policy intervals, never under the minimum', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(3);
    expect(staleAfterMs(null, POLICY)).toBe(HOUR);
    expect(staleAfterMs(15 * MIN, POLICY)).toBe(HOUR);
    expect(staleAfterMs(4 * HOUR, POLICY)).toBe(12 * HOUR);
  });

  it('keeps the last 9 gaps, ignores a repeat within 2 s, and a late telegram never moves last_seen back', () => {
    let m = applySeen(undefined, s(T0), POLICY).next;
    for (let i = 1; i <= 12; i++) m = applySeen(m, s(T0 + i * 10 * MIN), POLICY).next;
    expect(m.gaps).toHaveLength(9);
    expect(m.intervalMs).toBe(10 * MIN);
    const repeat = applySeen(m, s(m.lastSeen + 1_000), POLICY).next;
    expect(repeat.gaps).toEqual(m.gaps);
    expect(applySeen(m, s(m.lastSeen - 5 * MIN), POLICY).next.lastSeen).toBe(m.lastSeen);
  });

  it('decrypt errors make a key problem; back only when it was stale', () => {
    const first = applySeen(undefined, s(T0, { errorCode: 'decrypt_failed', error: 'x' }), POLICY);
    expect(first.next.status).toBe('key_problem');
    expect(first.back).toBe(false);
    expect(applySeen({ ...first.next, status: 'stale' }, s(T0 + HOUR), POLICY)).toMatchObject({ back: true, next: { status: 'ok', lastErrorCode: 'decrypt_failed' } });
  });
});

/** The store with its next finishJob failing (disk I/O error); failed() says whether that happened. */
function finishFailingOnce(db: SqliteStore): { store: SqliteStore; failed: () => boolean } {
  let failures = 1;
  const store = new Proxy(db, {
    get(target, key) {
      if (key === 'finishJob' && failures > 0) return async () => { failures--; throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }); };
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, failed: () => failures === 0 };
}

describe('stale and back events with a fake clock', () => {
  let db: SqliteStore;
  let events: EventBus;
  let clock: number;
  let staleEvents: string[];

  beforeEach(async () => {
    db = new SqliteStore(':memory:');
    await db.start();
    events = new EventBus(log);
    staleEvents = [];
    events.on('meterStale', (e) => staleEvents.push(e.meterId));
  });
  afterEach(async () => db.stop());

  const processor = (store: SqliteStore = db, ha?: HaDiscovery) => new JobProcessor(store, new KeyResolver(db, KeyVault.plain(), 'strict'), new LocalParser(),
    new MappingStore('/nonexistent.json', db, log, { importFile: false }), new Topics('oms/v1/gw/{gateway_id}/meter/{meter_id}'), events, log,
    { maxAttempts: 3, maxClaims: 5, backoff: { baseMs: 10, capMs: 100 }, qos: 1, retainReadings: true, stalePolicy: POLICY }, ha);

  /** The README meter (ELS 12345678) sends a telegram received at `rx`; the worker handles it. */
  async function telegram(rx: number, handle = (job: Job) => processor().process(job), gatewayId = 'gw1'): Promise<void> {
    const id = `ing-${rx}`;
    await db.insertTelegram({
      ingestId: id, gatewayId, rxTime: new Date(rx).toISOString(), rssiDbm: -70, mode: 'T1', rawHex: OMS_EXAMPLE.toLowerCase(),
      meterId: '12345678', manufacturer: 'ELS', dedupHash: id, keyHex: OMS_KEY, createdAt: Date.now(),
    }, { ingestId: id, kind: 'raw', topic: 'raw', payload: '{}', qos: 1, retain: false }, null);
    const [job] = await db.claimJobs(1, Date.now() + 1_000, 'w', 60_000);
    await handle(job!);
  }

  /** Outbox rows written since the last call (raw messages left out). */
  async function outbox(): Promise<OutboxRow[]> {
    const rows = await db.claimOutbox(1_000, Date.now() + 10_000_000, 'check', 60_000);
    await db.markPublished(rows.map((r) => r.id), Date.now());
    return rows.filter((r) => r.kind !== 'raw');
  }

  /** Events published since the last call. */
  async function published(): Promise<Array<Record<string, unknown>>> {
    return (await outbox()).filter((r) => r.topic === 'oms/v1/bridge/events').map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  }

  it('a meter that sends every 15 min goes stale after 1 h (3 intervals, min 1 h) once, and comes back with its next telegram', async () => {
    const monitor = new LivenessMonitor(db, events, log, { checkMs: 60_000, batch: 2, now: () => clock });
    for (const rx of [T0, T0 + 15 * MIN, T0 + 30 * MIN]) await telegram(rx);
    expect(await published()).toEqual([]);
    expect((await db.listMeters(null, 10, null)).items[0]).toMatchObject({ meterId: '12345678', intervalMs: 15 * MIN, status: 'ok' });

    clock = T0 + 30 * MIN + HOUR - 1;
    expect(await monitor.check()).toBe(0);
    clock = T0 + 30 * MIN + HOUR;
    expect(await monitor.check()).toBe(1);
    expect(await published()).toEqual([expect.objectContaining({
      event: 'meter_stale', meter_id: '12345678', manufacturer: 'ELS', last_seen: new Date(T0 + 30 * MIN).toISOString(), interval_s: 900,
      gateways: [{ gateway_id: 'gw1', rssi_dbm: -70, at: new Date(T0 + 30 * MIN).toISOString() }],
    })]);
    expect(staleEvents).toEqual(['12345678']);
    clock += 10 * HOUR;
    expect(await monitor.check()).toBe(0);
    expect(await db.countMetersByStatus()).toEqual({ ok: 0, stale: 1, key_problem: 0 });

    await telegram(T0 + 5 * HOUR);
    expect(await published()).toEqual([expect.objectContaining({ event: 'meter_back', meter_id: '12345678', gateway_id: 'gw1', ingest_id: `ing-${T0 + 5 * HOUR}` })]);
    expect(await db.countMetersByStatus()).toEqual({ ok: 1, stale: 0, key_problem: 0 });
  });

  it('the meter_back event survives a failed commit of the telegram that brought the meter back', async () => {
    await telegram(T0);
    clock = T0 + 2 * HOUR;
    await new LivenessMonitor(db, events, log, { checkMs: 60_000, batch: 10, now: () => clock }).check();
    await published();
    // The database fails once, between the liveness write and the job's outcome.
    const flaky = finishFailingOnce(db);
    await telegram(T0 + 3 * HOUR, (job) => processor(flaky.store).process(job));
    expect(flaky.failed()).toBe(true);
    const [again] = await db.claimJobs(1, Date.now() + 5_000, 'w', 60_000);
    expect(again?.ingestId).toBe(`ing-${T0 + 3 * HOUR}`);
    await processor().process(again!);
    expect(await published()).toEqual([expect.objectContaining({ event: 'meter_back', meter_id: '12345678', ingest_id: `ing-${T0 + 3 * HOUR}` })]);
    expect(await db.countMetersByStatus()).toMatchObject({ ok: 1, stale: 0 });
  });

  it('a telegram older than one already heard is published, but neither retained nor put into the Home Assistant state', async () => {
    const ha = new HaDiscovery({ prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0.1.0', maxMeters: 100 });
    const handle = (job: Job) => processor(db, ha).process(job);
    const summary = (rows: OutboxRow[]) => rows.map((r) => [r.kind, r.retain, r.kind === 'state' ? (JSON.parse(r.payload) as { last_seen: string }).last_seen : r.ingestId]);
    await telegram(T0 + 30 * MIN, handle);
    const first = summary(await outbox());
    expect(first.filter(([kind]) => kind !== 'discovery')).toEqual([['reading', true, `ing-${T0 + 30 * MIN}`], ['state', true, new Date(T0 + 30 * MIN).toISOString()]]);
    // A gateway's backlog delivers an older telegram of the same meter late.
    await telegram(T0, handle);
    expect(summary(await outbox())).toEqual([['reading', false, `ing-${T0}`]]);
    await telegram(T0 + 45 * MIN, handle);
    // (The learned interval changes expire_after, so the config may go out again.)
    expect(summary(await outbox()).filter(([kind]) => kind !== 'discovery')).toEqual([['reading', true, `ing-${T0 + 45 * MIN}`], ['state', true, new Date(T0 + 45 * MIN).toISOString()]]);
  });

  it('retains readings per gateway topic: a gateway whose clock runs behind still keeps its own newest retained', async () => {
    const retained = async () => (await outbox()).filter((r) => r.kind === 'reading').map((r) => [r.topic.split('/')[3], r.retain]);
    await telegram(T0 + 30 * MIN);
    // The same transmission through gw2, whose clock is half a second behind: older than the meter's newest, newest on gw2's topic.
    await telegram(T0 + 30 * MIN - 500, undefined, 'gw2');
    expect(await retained()).toEqual([['gw1', true], ['gw2', true]]);
    // gw2 uploads an older telegram from its backlog: published, not retained.
    await telegram(T0 + 10 * MIN, undefined, 'gw2');
    expect(await retained()).toEqual([['gw2', false]]);
  });

  it('a replayed telegram that is still the meter\'s newest updates the Home Assistant state; an older one does not', async () => {
    const ha = new HaDiscovery({ prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0.1.0', maxMeters: 100 });
    const states = async () => (await outbox()).filter((r) => r.kind === 'state').map((r) => (JSON.parse(r.payload) as { last_seen: string }).last_seen);
    // A stored key: the inline one is wiped once a telegram is done.
    await db.putMeterKey('12345678', OMS_KEY, 'ELS', 1);
    await telegram(T0, (job) => processor(db, ha).process(job));
    await telegram(T0 + 15 * MIN, (job) => processor(db, ha).process(job));
    await states();
    await db.replayTelegrams({ meterId: '12345678' }, Date.now(), 10);
    for (;;) {
      const [job] = await db.claimJobs(1, Date.now() + 1_000, 'w', 60_000);
      if (!job) break;
      expect(job.replay).toBe(true);
      await processor(db, ha).process(job);
    }
    expect(await states()).toEqual([new Date(T0 + 15 * MIN).toISOString()]);
  });

  it('a meter deleted meanwhile (another instance) gets its HA config again, also when that telegram\'s first commit failed', async () => {
    const ha = new HaDiscovery({ prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0.1.0', maxMeters: 100 });
    const kinds = async () => (await outbox()).map((r) => r.kind);
    await telegram(T0, (job) => processor(db, ha).process(job));
    expect(await kinds()).toContain('discovery');
    await db.deleteMeter('12345678');
    const flaky = finishFailingOnce(db);
    await telegram(T0 + 15 * MIN, (job) => processor(flaky.store, ha).process(job));
    expect(flaky.failed()).toBe(true);
    const [again] = await db.claimJobs(1, Date.now() + 5_000, 'w', 60_000);
    await processor(db, ha).process(again!);
    expect(await kinds()).toEqual(['reading', 'discovery', 'state']);
  });

  it('a replayed telegram from a gateway whose clock ran ahead counts from when it was accepted, not as the newest', async () => {
    const ha = new HaDiscovery({ prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0.1.0', maxMeters: 100 });
    const states = async () => (await outbox()).filter((r) => r.kind === 'state').map((r) => (JSON.parse(r.payload) as { last_seen: string }).last_seen);
    await db.putMeterKey('12345678', OMS_KEY, 'ELS', 1);
    await telegram(Date.parse('2099-01-01T00:00:00Z'), (job) => processor(db, ha).process(job));
    await new Promise((r) => setTimeout(r, 5));
    const right = Date.now();
    await telegram(right, (job) => processor(db, ha).process(job));
    await states();
    await db.replayTelegrams({ meterId: '12345678' }, Date.now(), 10);
    for (;;) {
      const [job] = await db.claimJobs(1, Date.now() + 1_000, 'w', 60_000);
      if (!job) break;
      await processor(db, ha).process(job);
    }
    expect(await states()).toEqual([new Date(right).toISOString()]);
  });

  it('an rx_time in the future (a gateway clock years ahead) counts as now, so the meter can still go stale', async () => {
    const before = Date.now();
    await telegram(Date.parse('2099-01-01T00:00:00Z'));
    const m = (await db.listMeters(null, 10, null)).items[0]!;
    expect(m.lastSeen).toBeGreaterThanOrEqual(before);
    expect(m.lastSeen).toBeLessThanOrEqual(Date.now());
  });

  it('marks more meters than one batch in one check', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await db.recordMeterSeen({ meterId: id, manufacturer: null, gatewayId: 'g', rssiDbm: null, at: T0, errorCode: null, error: null, ingestId: `i-${id}` }, POLICY);
    clock = T0 + HOUR;
    expect(await new LivenessMonitor(db, events, log, { checkMs: 60_000, batch: 2, now: () => clock }).check()).toBe(5);
    expect((await published()).map((e) => e.meter_id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a replayed telegram teaches nothing and does not bring a meter back', async () => {
    await telegram(T0);
    clock = T0 + 2 * HOUR;
    await new LivenessMonitor(db, events, log, { checkMs: 60_000, batch: 10, now: () => clock }).check();
    await published();
    await db.replayTelegrams({ meterId: '12345678' }, Date.now(), 10);
    const [job] = await db.claimJobs(1, Date.now() + 1_000, 'w', 60_000);
    await processor().process(job!);
    expect(await published()).toEqual([]);
    expect(await db.countMetersByStatus()).toMatchObject({ stale: 1 });
  });
});
