import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { STALE_LOCK } from '../../src/store/postgres/meter-registry.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import type { TelegramStore } from '../../src/store/store.js';
import { gatewayContract } from './gateway-contract.js';
import { meterContract } from './meter-contract.js';
import { mergeContract, reception } from './merge-contract.js';
import { storeContract } from './store-contract.js';
import { add, rawMessage, T0, telegram, type StoreEnv } from './store-fixtures.js';

const pgUrl = process.env.PG_TEST_URL;
const requireServices = process.env.REQUIRE_SERVICES === 'true';

// --- SQLite: a temp file per test -------------------------------------------

/** A temp SQLite file; `make` opens a store of the kind under test on it. */
function fileEnv(make: (file: string) => TelegramStore): () => Promise<StoreEnv> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-store-'));
    const file = join(dir, 'bridge.db');
    const opened: TelegramStore[] = [];
    return {
      open: async () => {
        const s = make(file);
        await s.start();
        opened.push(s);
        return s;
      },
      dispose: async () => {
        for (const s of opened) await s.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

const sqliteEnv = fileEnv((file) => new SqliteStore(file));
// The default for a file database: writes through the writer thread, reads on this thread's connection.
const threadedEnv = fileEnv((file) => new ThreadedSqliteStore(file));

storeContract('SQLite', sqliteEnv);
meterContract('SQLite', sqliteEnv);
gatewayContract('SQLite', sqliteEnv);
mergeContract('SQLite', sqliteEnv);
storeContract('SQLite with writer thread', threadedEnv);
meterContract('SQLite with writer thread', threadedEnv);
gatewayContract('SQLite with writer thread', threadedEnv);
mergeContract('SQLite with writer thread', threadedEnv);

describe('ThreadedSqliteStore', () => {
  it('creates the database folder on a fresh install (DATABASE_URL=sqlite:///./data/bridge.db)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-fresh-'));
    const store = new ThreadedSqliteStore(join(dir, 'data', 'nested', 'bridge.db'));
    try {
      await store.start();
      await store.ping();
      await store.putSetting('x', '1');
    } finally {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore', () => {
  it('refuses a second store on the same file with database_locked', async () => {
    const env = await sqliteEnv();
    await env.open();
    await expect(env.open()).rejects.toMatchObject({ code: 'database_locked' });
    await env.dispose();
  });

  it('re-queues jobs left in processing by a previous process', async () => {
    const env = await sqliteEnv();
    const a = await env.open();
    const t = await add(a);
    await a.claimJobs(1, T0 + 1_000, 'dead', 3_600_000);
    await a.stop();
    const b = await env.open();
    expect(await b.claimJobs(1, T0 + 1_001, 'alive', 1_000)).toHaveLength(1);
    expect((await b.getTelegram(t.ingestId))?.status).toBe('processing');
    await env.dispose();
  });
});

describe('createStore', () => {
  it('picks the implementation from DATABASE_URL', () => {
    expect(createStore('sqlite:///:memory:')).toBeInstanceOf(SqliteStore);
    expect(createStore('postgres://u@127.0.0.1:1/db')).toBeInstanceOf(PostgresStore);
    expect(createStore('postgresql://u@127.0.0.1:1/db?schema=bridge')).toBeInstanceOf(PostgresStore);
    expect(() => createStore('mysql://x')).toThrow(expect.objectContaining({ code: 'unsupported_database' }));
    expect(() => createStore('postgres://u@h/db?schema=x;drop')).toThrow(expect.objectContaining({ code: 'invalid_database_url' }));
  });
});

// --- PostgreSQL: a fresh schema per test, dropped afterwards ----------------

if (!pgUrl && requireServices) {
  describe('PostgresStore', () => {
    it('has a database to run against', () => {
      expect.fail('REQUIRE_SERVICES=true but PG_TEST_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)');
    });
  });
}

function schemaUrl(schema: string, params: Record<string, string> = {}): string {
  const u = new URL(pgUrl as string);
  u.searchParams.set('schema', schema);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function pgEnv(): Promise<StoreEnv> {
  const schema = `oms_test_${randomBytes(6).toString('hex')}`;
  const opened: PostgresStore[] = [];
  return Promise.resolve({
    open: async () => {
      const s = new PostgresStore(schemaUrl(schema), { listenReconnectMs: 50 });
      await s.start();
      opened.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of opened) await s.stop();
      await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!pgUrl)('PostgreSQL', () => {
  storeContract('PostgreSQL', pgEnv);
  meterContract('PostgreSQL', pgEnv);
  gatewayContract('PostgreSQL', pgEnv);
  mergeContract('PostgreSQL', pgEnv);

  describe('PostgresStore with several instances', () => {
    let env: StoreEnv;
    afterEach(async () => env.dispose());

    it('runs migrations once when instances start at the same moment', async () => {
      env = await pgEnv();
      const stores = await Promise.all([env.open(), env.open(), env.open(), env.open()]);
      // biome-ignore lint/complexity/useLiteralKeys: the test reads the private pool on purpose
      const [row] = (await (stores[0] as PostgresStore)['pool']().query('SELECT COUNT(*) AS n, MAX(version) AS v FROM schema_migrations')).rows;
      expect(row).toEqual({ n: POSTGRES_MIGRATIONS.length, v: POSTGRES_MIGRATIONS.length });
    });

    it('staleness is evaluated by one instance at a time (advisory lock), and each meter goes stale once', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      const policy = { intervals: 3, minMs: 1_000 };
      for (let i = 0; i < 50; i++) await a.recordMeterSeen({ meterId: `m${i}`, manufacturer: null, gatewayId: 'g', rssiDbm: null, at: T0, errorCode: null, error: null, ingestId: `i${i}` }, policy);
      await admin(async (c) => {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [STALE_LOCK.toString()]);
        // Another instance holds the evaluation: this one leaves the work to it.
        expect(await b.markStaleMeters(T0 + 10_000, 100)).toEqual([]);
        await c.query('COMMIT');
      });
      const marked: string[] = [];
      const loop = async (s: TelegramStore): Promise<void> => {
        for (let round = 0; round < 50; round++) {
          marked.push(...(await s.markStaleMeters(T0 + 10_000, 3)).map((m) => m.meterId));
          if ((await s.countMetersByStatus()).stale === 50) return;
        }
      };
      await Promise.all([loop(a), loop(b), loop(a), loop(b)]);
      expect(marked).toHaveLength(50);
      expect(new Set(marked).size).toBe(50);
    });

    it('a brand-new meter heard by two instances at the same moment keeps both receptions', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      const policy = { intervals: 3, minMs: 3_600_000 };
      const seen = (meterId: string, gatewayId: string, at: number) => ({ meterId, manufacturer: null, gatewayId, rssiDbm: -70, at, errorCode: null, error: null, ingestId: `${meterId}-${gatewayId}` });
      const ids = Array.from({ length: 40 }, (_, i) => `new-${i}`);
      // Two gateways hear the meter's first telegram; each instance handles one of them.
      const results = await Promise.all(ids.flatMap((id) => [a.recordMeterSeen(seen(id, 'gw-a', T0), policy), b.recordMeterSeen(seen(id, 'gw-b', T0 + 100), policy)]));
      for (const id of ids) {
        const m = await a.getMeter(id);
        expect(m?.gateways.map((g) => g.gatewayId).sort(), id).toEqual(['gw-a', 'gw-b']);
        expect([m?.firstSeen, m?.lastSeen], id).toEqual([T0, T0 + 100]);
      }
      // Exactly one of each pair found no record.
      for (let i = 0; i < results.length; i += 2) expect([results[i]!.first, results[i + 1]!.first].filter(Boolean)).toHaveLength(1);
    });

    it('gateway liveness: instances evaluating at the same moment report each transition once (advisory lock)', async () => {
      env = await pgEnv();
      const stores = [await env.open(), await env.open(), await env.open()];
      for (let i = 0; i < 20; i++) await add(stores[i % 3]!, { gatewayId: `gw-${i}`, createdAt: T0 + i });
      const seen: string[] = [];
      const round = async (now: number) => {
        for (const r of await Promise.all(stores.map((s) => s.checkGateways(T0 - 1, now, 60_000)))) seen.push(...(r ?? []).map((t) => `${t.gatewayId}:${t.to}`));
      };
      for (let i = 0; i < 5; i++) await round(T0 + 1_000 + i);
      for (let i = 0; i < 5; i++) await round(T0 + 120_000 + i);
      expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => [`gw-${i}:online`, `gw-${i}:silent`]).flat().sort());
      const rows = await stores[0]!.claimOutbox(1_000, T0 + 200_000, 'x', 1_000);
      expect(rows.filter((r) => r.kind === 'state')).toHaveLength(40);
      expect(rows.filter((r) => r.kind === 'event')).toHaveLength(20);
    });

    it('merge: three receptions inserted at once through two instances make exactly one job', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      for (let round = 0; round < 10; round++) {
        const hash = `tx-${round}`;
        const ts = ['gw-1', 'gw-2', 'gw-3'].map((g, i) => reception(hash, g, T0 + round * 10_000 + i));
        const results = await Promise.all(ts.map((t, i) => (i % 2 ? b : a).insertTelegram(t, rawMessage(t), 300_000)));
        const firsts = results.filter((r) => r.mergedInto === undefined);
        expect(firsts).toHaveLength(1);
        expect(results.every((r) => r.mergedInto === undefined || r.mergedInto === firsts[0]!.ingestId)).toBe(true);
        expect(await a.listReceptions(firsts[0]!.ingestId)).toHaveLength(3);
      }
      expect((await a.depths()).queue).toBe(10);
    });

    it('never gives the same job to two instances claiming concurrently', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      for (let i = 0; i < 200; i++) await add(i % 2 ? a : b, { createdAt: T0 + i });
      const claimed: string[] = [];
      const loop = async (s: TelegramStore, name: string): Promise<void> => {
        for (;;) {
          const jobs = await s.claimJobs(7, T0 + 10_000, name, 60_000);
          if (jobs.length === 0) return;
          claimed.push(...jobs.map((j) => j.ingestId));
        }
      };
      await Promise.all([loop(a, 'A1'), loop(a, 'A2'), loop(a, 'A3'), loop(b, 'B1'), loop(b, 'B2'), loop(b, 'B3')]);
      expect(claimed).toHaveLength(200);
      expect(new Set(claimed).size).toBe(200);
      expect(await a.claimJobs(10, T0 + 10_000, 'late', 60_000)).toEqual([]);
    });

    it('never gives the same outbox row to two relays claiming concurrently', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      for (let i = 0; i < 100; i++) await add(a);
      const claimed: number[] = [];
      const loop = async (s: TelegramStore, name: string): Promise<void> => {
        for (;;) {
          const rows = await s.claimOutbox(5, T0 + 10_000, name, 60_000);
          if (rows.length === 0) return;
          claimed.push(...rows.map((r) => r.id));
        }
      };
      await Promise.all([loop(a, 'A1'), loop(a, 'A2'), loop(b, 'B1'), loop(b, 'B2')]);
      expect(new Set(claimed).size).toBe(100);
      expect(claimed).toHaveLength(100);
    });

    it('dedups one telegram heard by several gateways at once across instances', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => {
        const t = telegram({ dedupHash: 'shared', createdAt: T0 + i });
        return (i % 2 ? a : b).insertTelegram(t, rawMessage(t), 60_000);
      }));
      const fresh = results.filter((r) => !r.duplicate);
      expect(fresh).toHaveLength(1);
      expect(new Set(results.map((r) => r.ingestId))).toEqual(new Set([fresh[0]!.ingestId]));
      expect((await a.depths()).queue).toBe(1);
    });

    it('wakes the other instance on insert, retry and replay, not itself; unsubscribe stops it', async () => {
      env = await pgEnv();
      const [a, b] = [await env.open(), await env.open()];
      let woken = { a: 0, b: 0 };
      a.onWorkAvailable(() => woken.a++);
      const unsubscribe = b.onWorkAvailable(() => woken.b++);
      b.onWorkAvailable(() => {
        throw new Error('a failing listener does not stop the others');
      });
      const t = await add(a);
      await until(() => woken.b > 0);
      const [job] = await a.claimJobs(1, T0 + 10_000, 'A', 60_000);
      woken = { a: 0, b: 0 };
      await a.retryJob(job!, { attempts: 1, nextAttemptAt: T0, errorCode: null, lastError: null });
      await until(() => woken.b > 0);
      const [again] = await a.claimJobs(1, T0 + 10_000, 'A', 60_000);
      expect(again?.ingestId).toBe(t.ingestId);
      await a.finishJob(again!, { status: 'done', attempts: 1, errorCode: null, lastError: null, parsedJson: '{}', messages: [], now: T0 });
      woken = { a: 0, b: 0 };
      expect((await a.replayTelegrams({}, T0, 10)).replayed).toBe(1);
      await until(() => woken.b > 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(woken.a).toBe(0);
      unsubscribe();
      woken = { a: 0, b: 0 };
      await add(a);
      await add(b);
      await until(() => woken.a > 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(woken.b).toBe(0);
    });

    it('re-opens the LISTEN connection when it drops', async () => {
      const schema = `oms_test_${randomBytes(6).toString('hex')}`;
      const app = `oms_listen_${randomBytes(4).toString('hex')}`;
      const a = new PostgresStore(schemaUrl(schema), { listenReconnectMs: 20 });
      const b = new PostgresStore(schemaUrl(schema, { application_name: app }), { listenReconnectMs: 20 });
      env = {
        open: () => Promise.reject(new Error('unused')),
        dispose: async () => {
          await a.stop();
          await b.stop();
          await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
        },
      };
      await a.start();
      await b.start();
      let woken = 0;
      b.onWorkAvailable(() => woken++);
      const listenerPids = (): Promise<number[]> => admin(async (c) => (await c.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN oms_bridge_work'", [app],
      )).rows.map((r) => r.pid));
      const [pid] = await listenerPids();
      expect(pid).toBeTypeOf('number');
      await admin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      await until(async () => {
        const pids = await listenerPids();
        return pids.length === 1 && pids[0] !== pid;
      });
      await until(() => woken > 0); // called once after reconnecting: notifications may have been missed
      woken = 0;
      await add(a);
      await until(() => woken > 0);
    });

    it('parses BIGINT per pool, leaving the global pg type parsers alone', () => {
      expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42');
    });
  });
});
