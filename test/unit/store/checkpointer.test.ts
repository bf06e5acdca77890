import { copyFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

describe('SQLite background checkpoints', () => {
  it('moves committed pages into the database file although the store never checkpoints on its own thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-ckpt-'));
    const file = join(dir, 'bridge.db');
    const store = new SqliteStore(file);
    await store.start();
    try {
      await store.putMeterKey('ckpt-1', '00112233445566778899AABBCCDDEEFF', null, Date.now());
      // A copy of the main file alone (no -wal) sees only what was checkpointed.
      const checkpointed = (): unknown => {
        const copy = join(dir, 'copy.db');
        copyFileSync(file, copy);
        const db = new Database(copy, { readonly: true });
        try {
          return db.prepare("SELECT meter_id FROM meter_keys WHERE meter_id = 'ckpt-1'").pluck().get();
        } catch {
          return undefined; // the copy may catch the file mid-checkpoint
        } finally {
          db.close();
        }
      };
      // The checkpointer runs every 250 ms; a loaded machine may start its thread late.
      const end = Date.now() + 10_000;
      while (checkpointed() !== 'ckpt-1' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(checkpointed()).toBe('ckpt-1');
    } finally {
      await store.stop();
    }
  });

  it('starts the WAL over while writers and a reader never pause, so its file stays near the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-ckpt-'));
    const file = join(dir, 'bridge.db');
    // 256 frames = 1 MiB instead of 256 MiB, so a few seconds of writes cross it many times.
    const store = new SqliteStore(file, { walRestartFrames: 256 });
    await store.start();
    const walBytes = (): number => statSync(`${file}-wal`).size;
    // Each restart cuts the file back to the limit: without restarts the file only grows while the load lasts.
    let last = 0;
    let cutBacks = 0;
    const sample = (): void => {
      const size = walBytes();
      if (size < last) cutBacks++;
      last = size;
    };
    // A reader in another thread, as the HTTP and pipeline threads read while the writer writes.
    const reader = new Worker(
      `const { workerData } = require('node:worker_threads');
       const db = new (require(workerData.driver))(workerData.file, { readonly: true });
       const count = db.prepare('SELECT COUNT(*) FROM settings').pluck();
       const end = Date.now() + 3_500;
       while (Date.now() < end) count.get();`,
      { eval: true, workerData: { file, driver: require.resolve('better-sqlite3') } },
    );
    const readerDone = new Promise((resolve) => reader.once('exit', resolve));
    try {
      // Four writers back to back, each row new (as telegrams are): a commit every turn. Without the
      // checkpointer's restart the WAL grew to 874 MB in these 3 s (0 cut-backs).
      const end = Date.now() + 3_000;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; Date.now() < end; i++) {
          await store.putSetting(`load-${w}-${i}`, 'x'.repeat(2_000));
          if (i % 20 === 0) sample();
        }
      };
      await Promise.all([0, 1, 2, 3].map(writer));
      await readerDone;
      expect(cutBacks).toBeGreaterThanOrEqual(3);
      // Idle: the next restart leaves a file of at most the limit.
      const settle = Date.now() + 10_000;
      while (walBytes() > 1024 * 1024 && Date.now() < settle) {
        await store.putSetting('tick', String(Date.now()));
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(walBytes()).toBeLessThanOrEqual(1024 * 1024);
    } finally {
      await store.stop();
    }
  }, 20_000);
});
