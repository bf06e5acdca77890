import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThreadedSqliteStore } from '../../../src/store/sqlite/threaded-sqlite-store.js';

describe('ThreadedSqliteStore while its writer thread is down', () => {
  it('fails calls at once with the retryable store_unavailable, before the writer is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-threaded-'));
    const store = new ThreadedSqliteStore(join(dir, 'bridge.db'), { onError: () => {} });
    await store.start();
    try {
      let relinked = false;
      store.onRelink(() => {
        relinked = true;
      });
      await store.killWriter();
      await new Promise((r) => setTimeout(r, 50));
      const err = (await store.putSetting('probe', '1').then(() => null, (e: unknown) => e)) as { code?: string; retryable?: boolean } | null;
      expect(err?.code).toBe('store_unavailable');
      expect(err?.retryable).toBe(true);
      // A call on the dead port used to wait for the restart (500 ms and more; forever if restarts failed).
      expect(relinked).toBe(false);
      await expect.poll(() => store.putSetting('probe', '2').then(() => true, () => false), { timeout: 10_000, interval: 100 }).toBe(true);
    } finally {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
