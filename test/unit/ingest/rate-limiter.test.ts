import { describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../../src/ingest/rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a second of burst, then one request per 1/rate s', () => {
    let now = 0;
    const r = new RateLimiter(2, () => now);
    expect([r.take('a'), r.take('a'), r.take('a')]).toEqual([0, 0, 1]);
    now += 500;
    expect(r.take('a')).toBe(0);
    expect(r.take('b')).toBe(0); // its own bucket
  });

  it('a rate below 1/s still lets a request through every 1/rate s (the bucket holds at least one token)', () => {
    let now = 0;
    const r = new RateLimiter(0.5, () => now);
    expect(r.take('a')).toBe(0);
    expect(r.take('a')).toBe(2);
    now += 2_000;
    expect(r.take('a')).toBe(0);
  });

  it('does not follow the wall clock: a step back of an hour does not refuse every gateway', () => {
    const wall = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 11, 3, 12));
    try {
      const r = new RateLimiter(10);
      expect(r.take('a')).toBe(0);
      wall.mockReturnValue(Date.UTC(2026, 11, 3, 11));
      expect(r.take('a')).toBe(0);
    } finally {
      wall.mockRestore();
    }
  });
});
