import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/store/sqlite/group-commit.js';

function setup(maxBatch?: number) {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  const group = new GroupCommit(() => db, maxBatch);
  const count = () => db.prepare('SELECT COUNT(*) FROM t').pluck().get() as number;
  const submit = (id: number, v: string | null) => group.submit(() => insert.run(id, v).changes);
  return { db, group, count, submit };
}

describe('GroupCommit', () => {
  it('commits writes of one turn together; a failing write is rolled back alone', async () => {
    const { submit, count } = setup();
    const results = await Promise.allSettled([submit(1, 'a'), submit(2, null), submit(3, 'c'), submit(1, 'duplicate')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(count()).toBe(2);
  });

  it('splits more writes than maxBatch over several transactions and loses none', async () => {
    const { submit, count, db } = setup(16);
    const inTx: boolean[] = [];
    const all = Array.from({ length: 100 }, (_, i) => submit(i + 1, `v${i}`).then(() => inTx.push(db.inTransaction)));
    await Promise.all(all);
    expect(count()).toBe(100);
    expect(inTx.every((x) => x === false)).toBe(true); // every promise resolves after its commit
  });

  it('flushAll commits what is pending before the database closes', () => {
    const { submit, count, group } = setup(8);
    for (let i = 0; i < 30; i++) void submit(i + 1, 'x');
    expect(count()).toBe(0);
    group.flushAll();
    expect(count()).toBe(30);
  });

  it('urgent writes commit in their own transaction ahead of pending ones, and the lanes take turns', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, lane TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (id, lane) VALUES (?, ?)');
    const group = new GroupCommit(() => db, 4);
    const commits: string[] = [];
    // A commit settles its promises after it, before the next one: the order of settling is the order of commits.
    const write = (id: number, lane: 'u' | 'p') => group.submit(() => insert.run(id, lane), { urgent: lane === 'u' }).then(() => commits.push(lane));
    const all = [write(1, 'p'), write(2, 'p'), write(3, 'p'), write(4, 'p'), write(5, 'p'), write(6, 'u'), write(7, 'u')];
    await Promise.all(all);
    // urgent batch first although submitted last; then 4 pipeline writes (maxBatch); the fifth in the next turn.
    expect(commits).toEqual(['u', 'u', 'p', 'p', 'p', 'p', 'p']);
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(7);

    // Urgent work arriving all the time does not starve the other lane: they alternate.
    commits.length = 0;
    const more: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) more.push(write(100 + i, 'p'));
    for (let i = 0; i < 12; i++) more.push(write(200 + i, 'u'));
    await Promise.all(more);
    expect(commits.slice(0, 7)).toEqual(['u', 'u', 'u', 'u', 'p', 'p', 'p']);
  });

  it('a new connection (writer restart) gets its own transaction wrappers: writes land in it, not in the old one', async () => {
    const open = () => {
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      return db;
    };
    let current = open();
    const first = current;
    const group = new GroupCommit(() => current);
    const write = (id: number) => group.submit(() => current.prepare('INSERT INTO t (id) VALUES (?)').run(id));
    await write(1);
    first.close();
    current = open();
    await write(2);
    await write(3);
    expect(current.prepare('SELECT id FROM t ORDER BY id').pluck().all()).toEqual([2, 3]);
    expect(current.inTransaction).toBe(false);
  });

  it('rejects writes once the database is gone', async () => {
    const group = new GroupCommit(() => undefined);
    await expect(group.submit(() => 1)).rejects.toMatchObject({ code: 'store_closed' });
  });
});

describe('GroupCommit when the disk is full', () => {
  function fullDb() {
    const dir = mkdtempSync(join(tmpdir(), 'oms-full-'));
    const db = new Database(join(dir, 'full.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 4}`);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    const group = new GroupCommit(() => db);
    const count = () => db.prepare('SELECT COUNT(*) FROM t').pluck().get() as number;
    const submit = (id: number) => group.submit(() => insert.run(id, 'x'.repeat(2_000)).changes);
    return { db, count, submit, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('answers every caller of a failed batch with storage_full (retryable), writes none of it, and recovers when space returns', async () => {
    const { db, count, submit, dispose } = fullDb();
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => submit(i + 1)));
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as { code: string; retryable: boolean; message: string });
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatchObject({ code: 'storage_full', retryable: true });
    expect(errors.some((e) => /no transaction is active/.test(e.message))).toBe(false);
    // A caller that was told "ok" has its row; a caller that was told "full" does not.
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(count()).toBe(ok);
    expect(db.inTransaction).toBe(false);
    db.pragma('max_page_count = 1000000');
    await expect(Promise.all(Array.from({ length: 40 }, (_, i) => submit(1_000 + i)))).resolves.toHaveLength(40);
    expect(count()).toBe(ok + 40);
    db.close();
    dispose();
  });
});
