import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfter } from '../../src/lib/backoff.js';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 1_000, capMs: 8_000 };
  it('grows exponentially with jitter inside [ceiling/2, ceiling] and respects the cap', () => {
    expect(backoffDelayMs(1, { policy, random: () => 0 })).toBe(500);
    expect(backoffDelayMs(1, { policy, random: () => 1 })).toBe(1_000);
    expect(backoffDelayMs(3, { policy, random: () => 1 })).toBe(4_000);
    expect(backoffDelayMs(10, { policy, random: () => 1 })).toBe(8_000);
    expect(backoffDelayMs(10, { policy, random: () => 0 })).toBe(4_000);
  });
  it('prefers Retry-After', () => {
    expect(backoffDelayMs(5, { policy, retryAfterMs: 1_234 })).toBe(1_234);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:30 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
