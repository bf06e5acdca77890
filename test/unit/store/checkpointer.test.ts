import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
});
