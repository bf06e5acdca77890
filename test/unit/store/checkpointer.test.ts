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
      await new Promise((r) => setTimeout(r, 800));
      // A copy of the main file alone (no -wal) sees only what was checkpointed.
      const copy = join(dir, 'copy.db');
      copyFileSync(file, copy);
      const db = new Database(copy, { readonly: true });
      try {
        expect(db.prepare("SELECT meter_id FROM meter_keys WHERE meter_id = 'ckpt-1'").pluck().get()).toBe('ckpt-1');
      } finally {
        db.close();
      }
    } finally {
      await store.stop();
    }
  });
});
