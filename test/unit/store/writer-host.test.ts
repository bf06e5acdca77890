import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriterHost } from '../../../src/store/sqlite/writer-host.js';

describe('WriterHost', () => {
  it('a first start that fails leaves no writer thread restarting behind it (it would run without the process lock)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oms-writer-host-'));
    const file = join(dir, 'bridge.db');
    writeFileSync(file, 'this is not an SQLite database, but long enough to have a header of one '.repeat(20));
    const errors: string[] = [];
    const host = new WriterHost(file, { onError: (m) => errors.push(m), onRestart: () => errors.push('restarted') }, 50);
    try {
      await expect(host.start()).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(host.running).toBe(false);
      expect(errors.filter((e) => /restart/.test(e))).toEqual([]);
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
