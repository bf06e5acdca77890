import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/http/login-throttle.js';

describe('LoginThrottle', () => {
  it('refuses an address after maxFailures inside the window, until the window has passed', () => {
    let now = 0;
    const t = new LoginThrottle(3, 60_000, 100, () => now);
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterS('10.0.0.1')).toBe(0);
      t.fail('10.0.0.1');
    }
    expect(t.retryAfterS('10.0.0.1')).toBe(60);
    expect(t.retryAfterS('10.0.0.2')).toBe(0);
    now = 30_500;
    expect(t.retryAfterS('10.0.0.1')).toBe(30);
    now = 60_000;
    expect(t.retryAfterS('10.0.0.1')).toBe(0);
    t.fail('10.0.0.1');
    expect(t.retryAfterS('10.0.0.1')).toBe(0);
  });

  it('remembers at most maxAddresses', () => {
    const t = new LoginThrottle(1, 60_000, 10, () => 0);
    for (let i = 0; i < 1_000; i++) t.fail(`a${i}`);
    expect((t as unknown as { failures: Map<string, unknown> }).failures.size).toBe(10);
    expect(t.retryAfterS('a999')).toBe(60);
    expect(t.retryAfterS('a0')).toBe(0);
  });
});
