import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { Retention } from '../../src/store/retention.js';

const DAY = 86_400_000;

function fakeStore() {
  return {
    purgeDedup: vi.fn(async () => 0),
    purgeFinished: vi.fn(async () => 0),
    pruneKeyProblems: vi.fn(async () => 0),
  };
}

describe('Retention', () => {
  it('purges dedup, bounds the keys-needed list and deletes old telegrams in bounded batches', async () => {
    const store = fakeStore();
    store.purgeFinished.mockResolvedValue(5_000);
    const r = new Retention(store, { retentionDays: 30, keyMissingMax: 100, keyMissingMaxAgeDays: 7 }, createLogger('silent'));
    await r.runOnce(100 * DAY);
    expect(store.purgeDedup).toHaveBeenCalledWith(100 * DAY);
    expect(store.pruneKeyProblems).toHaveBeenCalledWith(93 * DAY, 100);
    expect(store.purgeFinished).toHaveBeenCalledTimes(20);
    expect(store.purgeFinished).toHaveBeenCalledWith(70 * DAY, 5_000);
  });

  it('keeps telegrams with RETENTION_DAYS=0 and survives a failing store', async () => {
    const store = fakeStore();
    store.purgeDedup.mockRejectedValueOnce(new Error('SQLITE_BUSY'));
    const r = new Retention(store, { retentionDays: 0, keyMissingMax: 10, keyMissingMaxAgeDays: 1 }, createLogger('silent'));
    await r.runOnce(DAY);
    await r.runOnce(DAY);
    expect(store.pruneKeyProblems).toHaveBeenCalledTimes(1);
    expect(store.purgeFinished).not.toHaveBeenCalled();
  });

  it('runs on its interval after start() and not after stop() (idempotent)', async () => {
    vi.useFakeTimers();
    try {
      const store = fakeStore();
      const r = new Retention(store, { retentionDays: 1, keyMissingMax: 10, keyMissingMaxAgeDays: 1, intervalMs: 1_000 }, createLogger('silent'));
      r.start();
      r.start();
      await vi.advanceTimersByTimeAsync(3_000);
      expect(store.purgeDedup).toHaveBeenCalledTimes(3);
      await r.stop();
      await r.stop();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(store.purgeDedup).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
