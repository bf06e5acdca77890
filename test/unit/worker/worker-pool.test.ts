import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/observability/events.js';
import { createLogger } from '../../../src/observability/logger.js';
import { KeyResolver } from '../../../src/parser/key-resolver.js';
import { LocalParser } from '../../../src/parser/local/local-parser.js';
import type { Parser, ParseRequest, ParseResult } from '../../../src/parser/parser.js';
import { Topics } from '../../../src/publish/topics.js';
import { KeyVault } from '../../../src/security/key-vault.js';
import { MappingStore } from '../../../src/store/mapping-store.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { TelegramStore } from '../../../src/store/store.js';
import { JobProcessor } from '../../../src/worker/job-processor.js';
import { WorkerPool } from '../../../src/worker/worker-pool.js';
import { OMS_EXAMPLE, OMS_KEY } from '../../helpers/app.js';

const log = createLogger('silent');

/** The built-in decoder behind a gate the test opens per call, counting the calls in flight. */
class HeldParser implements Parser {
  readonly name = 'local';
  inFlight = 0;
  maxInFlight = 0;
  readonly started: string[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly local = new LocalParser();

  async parse(req: ParseRequest): Promise<ParseResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.started.push(req.ingestId);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight--;
    return this.local.parse(req);
  }

  answerAll(): void {
    for (const w of this.waiting.splice(0)) w();
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WorkerPool', () => {
  let db: SqliteStore;
  let pool: WorkerPool | undefined;

  beforeEach(async () => {
    db = new SqliteStore(':memory:');
    await db.start();
  });
  afterEach(async () => {
    await pool?.stop(1_000);
    await db.stop();
  });

  async function accept(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const id = `ing-${i}`;
      await db.insertTelegram({
        ingestId: id, gatewayId: 'gw1', rxTime: '2024-01-01T00:00:00Z', rssiDbm: -70, mode: 'T1', rawHex: OMS_EXAMPLE.toLowerCase(),
        meterId: '12345678', manufacturer: 'ELS', dedupHash: id, keyHex: OMS_KEY, createdAt: i,
      }, { ingestId: id, kind: 'raw', topic: 'raw', payload: '{}', qos: 1, retain: false }, null);
    }
  }

  function start(store: TelegramStore, parser: Parser, concurrency: number): WorkerPool {
    const processor = new JobProcessor(store, new KeyResolver(store, KeyVault.plain(), 'strict'), parser,
      new MappingStore('/nonexistent.json', store, log, { importFile: false }), new Topics('oms/v1/gw/{gateway_id}/meter/{meter_id}'),
      new EventBus(log), log, { maxAttempts: 3, maxClaims: 5, backoff: { baseMs: 10, capMs: 100 }, qos: 1, retainReadings: false });
    const p = new WorkerPool(store, processor, log, { concurrency, instanceId: 'test', leaseMs: 60_000, idlePollMs: 20 });
    p.start();
    return p;
  }

  it('keeps N_WORKERS parser calls in flight, and a slow commit of an answered job does not hold a slot', async () => {
    await accept(10);
    const parser = new HeldParser();
    // Commits of outcomes hang until released, like a writer busy with a long transaction.
    const commits: Array<() => void> = [];
    const slowCommits = new Proxy(db, {
      get(target, key) {
        const v = Reflect.get(target, key) as unknown;
        if (typeof v !== 'function') return v;
        const fn = (v as (...a: unknown[]) => unknown).bind(target);
        if (key !== 'finishJob') return fn;
        return async (...args: unknown[]) => {
          await new Promise<void>((resolve) => commits.push(resolve));
          return fn(...args);
        };
      },
    });
    pool = start(slowCommits, parser, 2);
    await until(() => parser.inFlight === 2);
    // Claimed ahead: one more (a quarter of N_WORKERS, rounded up) waits for a slot.
    await until(() => pool!.busy === 3);
    parser.answerAll();
    // The two answered jobs wait for their commits; their slots went to the next two at once.
    await until(() => parser.inFlight === 2 && commits.length === 2);
    expect(parser.started).toHaveLength(4);
    parser.answerAll();
    await until(() => commits.length === 4 && parser.started.length === 5);
    // Parsing, waiting and committing together stay bounded (2 × N_WORKERS + the ones claimed ahead): with four
    // commits hanging, one job parses and nothing more is claimed.
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.busy).toBe(5);
    expect(parser.started).toHaveLength(5);
    // Release everything from here on.
    const drain = setInterval(() => {
      parser.answerAll();
      for (const c of commits.splice(0)) c();
    }, 5);
    try {
      await until(async () => (await db.getTelegram('ing-9'))?.status === 'done' && pool!.busy === 0);
    } finally {
      clearInterval(drain);
    }
    expect(parser.maxInFlight).toBe(2);
    for (let i = 0; i < 10; i++) expect((await db.getTelegram(`ing-${i}`))?.status, `ing-${i}`).toBe('done');
    expect(new Set(parser.started).size).toBe(10);
    expect(parser.started).toHaveLength(10);
  });

  it('a parser that fails gives its slot back: every job gets an outcome, never more than N_WORKERS calls at once', async () => {
    await accept(6);
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const failing: Parser = {
      name: 'local',
      async parse() {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        throw new Error('parser crashed');
      },
    };
    pool = start(db, failing, 2);
    await until(async () => (await Promise.all(Array.from({ length: 6 }, (_, i) => db.getTelegram(`ing-${i}`)))).every((t) => t?.status === 'error'));
    expect(calls).toBe(6);
    expect(maxInFlight).toBe(2);
    await until(() => pool!.busy === 0);
  });

  it('stop() puts a job still waiting for a slot back unrun, with its attempts and last error', async () => {
    await accept(3);
    // ing-2 failed once before (a Lobaro 502) and is due again; it is claimed third.
    for (const j of await db.claimJobs(3, 10, 'earlier', 60_000)) {
      const failed = j.ingestId === 'ing-2';
      await db.retryJob(j, { attempts: failed ? 1 : 0, nextAttemptAt: failed ? 100 : 0, errorCode: failed ? 'lobaro_5xx' : null, lastError: failed ? 'HTTP 502' : null });
    }
    const parser = new HeldParser();
    pool = start(db, parser, 2);
    await until(() => parser.inFlight === 2 && pool!.busy === 3);
    expect(parser.started.sort()).toEqual(['ing-0', 'ing-1']);
    const stopped = pool.stop(5_000);
    parser.answerAll();
    await stopped;
    pool = undefined;
    expect(parser.started).toHaveLength(2);
    expect(await db.getTelegram('ing-0')).toMatchObject({ status: 'done' });
    expect(await db.getTelegram('ing-2')).toMatchObject({ status: 'queued', attempts: 1, errorCode: 'lobaro_5xx', lastError: 'HTTP 502' });
  });
});
