import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DedupIndex } from '../../../src/store/sqlite/dedup-index.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { SqliteConnection } from '../../../src/store/sqlite/sqlite-connection.js';
import { GroupCommit } from '../../../src/store/sqlite/group-commit.js';
import { SqliteTelegramIntake } from '../../../src/store/sqlite/telegram-intake.js';
import { ThreadedSqliteStore } from '../../../src/store/sqlite/threaded-sqlite-store.js';
import { rawMessage, T0, telegram } from '../../contract/store-fixtures.js';

describe('DedupIndex', () => {
  it('answers the holder inside the window, takes over an expired entry, purges from the oldest', () => {
    const d = new DedupIndex();
    expect(d.claim('h', 'a', T0 + 100, T0)).toBeNull();
    expect(d.claim('h', 'b', T0 + 150, T0 + 99)).toBe('a');
    expect(d.claim('h', 'c', T0 + 200, T0 + 100)).toBeNull();
    expect(d.claim('h', 'd', T0 + 250, T0 + 150)).toBe('c');
    expect(d.claim('g', 'e', T0 + 300, T0 + 200)).toBeNull();
    expect(d.purge(T0 + 200)).toBe(1);
    expect(d.size).toBe(1);
  });

  it('rolls claims back to a mark; a commit keeps them', () => {
    const d = new DedupIndex();
    d.claim('keep', 'a', T0 + 100, T0);
    d.commit();
    const mark = d.mark();
    d.claim('new', 'b', T0 + 100, T0);
    d.claim('keep', 'c', T0 + 300, T0 + 100); // took over the expired entry
    d.rollbackTo(mark);
    expect(d.claim('new', 'x', T0 + 100, T0)).toBeNull();
    expect(d.claim('keep', 'y', T0 + 50, T0 + 10)).toBe('a');
  });

  it('loads stored telegrams as their claims: the first of a repeat inside the window holds, at most its size are kept', () => {
    const d = new DedupIndex(2);
    const rows: Array<[string, string, number]> = [['1', 'a', T0], ['2', 'b', T0 + 1], ['2', 'late', T0 + 2], ['3', 'c', T0 + 3]];
    d.load(rows, 1_000);
    expect(d.ready).toBe(true);
    expect(d.size).toBe(2);
    expect(d.claim('2', 'x', T0 + 1_000, T0 + 10)).toBe('b');
    expect(d.claim('3', 'y', T0 + 1_000, T0 + 10)).toBe('c');
    expect(d.claim('1', 'z', T0 + 1_000, T0 + 10)).toBeNull(); // the oldest was not kept
  });

  it('forgets the oldest entry beyond its size (a repeat of it is stored again, never lost)', () => {
    const d = new DedupIndex(2);
    d.claim('1', 'a', T0 + 1_000, T0);
    d.claim('2', 'b', T0 + 1_000, T0);
    d.claim('3', 'c', T0 + 1_000, T0);
    expect(d.size).toBe(2);
    expect(d.claim('1', 'z', T0 + 1_000, T0 + 1)).toBeNull();
    expect(d.claim('3', 'z', T0 + 1_000, T0 + 1)).toBe('c');
  });
});

describe('SqliteStore dedup in memory', () => {
  const withStore = async (fn: (open: () => Promise<SqliteStore>, file: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-dedup-'));
    const file = join(dir, 'bridge.db');
    try {
      await fn(async () => {
        const s = new SqliteStore(file);
        await s.start();
        return s;
      }, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('is rebuilt from the telegrams after a restart: a repeat inside the window is still a duplicate', async () => {
    await withStore(async (open) => {
      const now = Date.now();
      const a = await open();
      const t = telegram({ dedupHash: 'same', createdAt: now });
      await a.insertTelegram(t, rawMessage(t), 60_000);
      await a.stop();
      const b = await open();
      const again = telegram({ dedupHash: 'same', createdAt: now + 1_000 });
      expect(await b.insertTelegram(again, rawMessage(again), 60_000)).toEqual({ ingestId: t.ingestId, duplicate: true });
      const later = telegram({ dedupHash: 'same', createdAt: now + 60_000 });
      expect(await b.insertTelegram(later, rawMessage(later), 60_000)).toEqual({ ingestId: later.ingestId, duplicate: false });
      await b.stop();
    });
  });

  it('a batch that fails leaves no claim behind: sending it again is accepted, not answered as a duplicate', async () => {
    await withStore(async (open) => {
      const s = await open();
      const first = telegram({ dedupHash: 'batch-1', createdAt: T0 });
      const clash = telegram({ ingestId: first.ingestId, dedupHash: 'batch-2', createdAt: T0 + 1 }); // same primary key: the batch fails
      const items = [first, clash].map((t) => ({ telegram: t, raw: rawMessage(t), clientId: null }));
      await expect(s.insertTelegrams(items, 60_000, 86_400_000)).rejects.toThrow();
      const retry = telegram({ dedupHash: 'batch-1', createdAt: T0 + 2 });
      expect(await s.insertTelegram(retry, rawMessage(retry), 60_000)).toEqual({ ingestId: retry.ingestId, duplicate: false });
      await s.stop();
    });
  });

  it('prepareIntake reads the window in before the first insert (it held the first 202 after a restart)', async () => {
    await withStore(async (open, file) => {
      const now = Date.now();
      const a = await open();
      for (const [hash, age] of [['old', 120_000], ['in-1', 30_000], ['in-2', 1_000]] as const) {
        const t = telegram({ dedupHash: hash, createdAt: now - age });
        await a.insertTelegram(t, rawMessage(t), null);
      }
      await a.stop();
      const conn = new SqliteConnection();
      const dedup = new DedupIndex();
      const intake = new SqliteTelegramIntake(conn, new GroupCommit(() => conn.current, 128, dedup), dedup);
      conn.open(new Database(file));
      try {
        expect(dedup.ready).toBe(false);
        await intake.prepareIntake(60_000);
        expect(dedup.ready).toBe(true);
        expect(dedup.size).toBe(2);
        expect(dedup.claim('in-1', 'x', now + 60_000, now)).not.toBeNull();
        expect(dedup.claim('old', 'y', now + 60_000, now)).toBeNull();
      } finally {
        conn.close();
      }
    });
  });

  it('a restarted writer thread reads the window in again (its index starts empty)', async () => {
    await withStore(async (_open, file) => {
      const store = new ThreadedSqliteStore(file, { onError: () => {} });
      await store.start();
      try {
        await store.prepareIntake(60_000);
        const calls = vi.spyOn(store, 'callWriter');
        await store.killWriter();
        await vi.waitFor(() => expect(calls.mock.calls.some(([m, args]) => m === 'prepareIntake' && args[0] === 60_000)).toBe(true), { timeout: 10_000, interval: 50 });
        const t = telegram({ dedupHash: 'after-restart', createdAt: Date.now() });
        await vi.waitFor(() => store.insertTelegram(t, rawMessage(t), 60_000), { timeout: 10_000, interval: 100 });
      } finally {
        await store.stop();
      }
    });
  });
});
