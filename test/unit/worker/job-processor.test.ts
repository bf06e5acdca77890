import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/observability/events.js';
import { createLogger } from '../../../src/observability/logger.js';
import { KeyResolver } from '../../../src/parser/key-resolver.js';
import { LocalParser } from '../../../src/parser/local/local-parser.js';
import type { Parser } from '../../../src/parser/parser.js';
import { Topics } from '../../../src/publish/topics.js';
import { KeyVault } from '../../../src/security/key-vault.js';
import { MappingStore } from '../../../src/store/mapping-store.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Job, TelegramStore } from '../../../src/store/store.js';
import { JobProcessor } from '../../../src/worker/job-processor.js';
import { OMS_EXAMPLE, OMS_KEY } from '../../helpers/app.js';

const log = createLogger('silent');

function busy(): Error {
  return Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
}

/** The real store, with chosen methods failing the next N calls. */
function flaky(store: SqliteStore, failures: Partial<Record<keyof TelegramStore, number>>): TelegramStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const left = failures[prop as keyof TelegramStore] ?? 0;
        if (left > 0) {
          failures[prop as keyof TelegramStore] = left - 1;
          return Promise.reject(busy());
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as TelegramStore;
}

describe('JobProcessor', () => {
  let db: SqliteStore;
  let events: EventBus;
  let seen: string[];

  beforeEach(async () => {
    db = new SqliteStore(':memory:');
    await db.start();
    events = new EventBus(log);
    seen = [];
    for (const e of ['jobFinished', 'jobRetry', 'jobFenced', 'jobDeferred'] as const) events.on(e, (p) => seen.push(`${e}:${'code' in p ? p.code ?? '' : ''}`));
  });
  afterEach(async () => db.stop());

  function processor(store: TelegramStore, maxClaims = 5, parser: Parser = new LocalParser()): JobProcessor {
    const vault = KeyVault.plain();
    const mappings = new MappingStore('/nonexistent.json', store, log, { importFile: false });
    return new JobProcessor(store, new KeyResolver(store, vault, 'strict'), parser, mappings, new Topics('oms/v1/gw/{gateway_id}/meter/{meter_id}'), events, log, {
      maxAttempts: 3, maxClaims, backoff: { baseMs: 10, capMs: 100 }, qos: 1, retainReadings: false,
    });
  }

  async function accept(keyHex: string | null, now: number): Promise<string> {
    const id = `ing-${now}`;
    await db.insertTelegram({
      ingestId: id, gatewayId: 'gw1', rxTime: '2024-01-01T00:00:00Z', rssiDbm: -70, mode: 'T1', rawHex: OMS_EXAMPLE.toLowerCase(),
      meterId: '12345678', manufacturer: 'ELS', dedupHash: id, keyHex, createdAt: now,
    }, { ingestId: id, kind: 'raw', topic: 'raw', payload: '{}', qos: 1, retain: false }, null);
    return id;
  }

  async function claim(now: number, by = 'w'): Promise<Job> {
    const [job] = await db.claimJobs(1, now, by, 1_000);
    if (!job) throw new Error('nothing to claim');
    return job;
  }

  async function outbox(): Promise<string[]> {
    return (await db.claimOutbox(100, Date.now() + 10_000_000, 'check', 1)).filter((r) => r.kind !== 'raw').map((r) => r.kind);
  }

  it('a key-store read that fails once (SQLITE_BUSY) re-queues the job without using an attempt; the next run gives one reading', async () => {
    await db.putMeterKey('12345678', OMS_KEY, 'ELS', 1);
    const id = await accept(null, 1);
    const p = processor(flaky(db, { getMeterKey: 1 }));
    await p.process(await claim(10));
    const after = await db.getTelegram(id);
    expect(after).toMatchObject({ status: 'queued', attempts: 0, errorCode: 'store_unavailable' });
    expect(after?.lastError).not.toMatch(/locked/); // no database text leaves the store
    expect(await outbox()).toEqual([]);
    expect(seen).toEqual(['jobDeferred:store_unavailable']);
    await p.process(await claim(Date.now() + 2_000));
    expect(await db.getTelegram(id)).toMatchObject({ status: 'done', attempts: 1 });
    expect(await outbox()).toEqual(['reading']);
  });

  it('a failing success-path finishJob is retried, never turned into a parse error', async () => {
    const id = await accept(OMS_KEY, 1);
    const p = processor(flaky(db, { finishJob: 1 }));
    await p.process(await claim(10));
    expect(await db.getTelegram(id)).toMatchObject({ status: 'queued', attempts: 0, errorCode: 'store_unavailable' });
    await p.process(await claim(Date.now() + 2_000));
    expect(await db.getTelegram(id)).toMatchObject({ status: 'done', attempts: 1, errorCode: null });
    expect(await outbox()).toEqual(['reading']);
  });

  it('a worker whose lease was taken over writes nothing, and the metric event says so', async () => {
    const id = await accept(OMS_KEY, 1);
    const stale = await claim(10, 'A');
    const fresh = await claim(1_011, 'B'); // A's lease ran out
    await processor(db).process(fresh);
    await processor(db).process(stale); // inline key wiped on B's finish: a re-run would say decrypt_key_missing
    expect(await db.getTelegram(id)).toMatchObject({ status: 'done', errorCode: null });
    expect(await outbox()).toEqual(['reading']);
    expect(seen).toEqual(['jobFinished:', 'jobFenced:']);
  });

  it('an unexpected exception inside the parser ends as parse_failed without its internal text on MQTT', async () => {
    const id = await accept(OMS_KEY, 1);
    const broken: Parser = { name: 'broken', parse: async () => { throw new TypeError('cannot read x of /srv/bridge/secret-path.js'); } };
    await processor(db, 5, broken).process(await claim(10));
    const t = await db.getTelegram(id);
    expect(t).toMatchObject({ status: 'error', errorCode: 'parse_failed' });
    expect(JSON.stringify(t?.parsed)).not.toContain('secret-path');
    const [row] = (await db.claimOutbox(100, Date.now() + 10_000_000, 'check', 1)).filter((r) => r.kind === 'error');
    expect(row?.payload).not.toContain('secret-path');
  });

  it('a telegram that keeps taking the process down ends as claim_limit after JOB_MAX_CLAIMS claims', async () => {
    const id = await accept(OMS_KEY, 1);
    let now = 10;
    for (let i = 0; i < 3; i++) {
      await claim(now); // the process dies here each time: no outcome
      now += 1_001;
    }
    await processor(db, 3).process(await claim(now));
    const t = await db.getTelegram(id);
    expect(t).toMatchObject({ status: 'error', errorCode: 'claim_limit', attempts: 0 });
    expect(await outbox()).toEqual(['error']);
  });
});
