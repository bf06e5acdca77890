import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../../src/parser/lobaro/circuit-breaker.js';
import type { ParseError } from '../../src/parser/parser.js';

function setup() {
  let now = 1_000_000;
  const states: CircuitState[] = [];
  const b = new CircuitBreaker(60_000, (s) => states.push(s), () => now);
  return { b, states, advance: (ms: number) => (now += ms) };
}

function rejection(fn: () => void): ParseError {
  try {
    fn();
  } catch (err) {
    return err as ParseError;
  }
  throw new Error('did not throw');
}

describe('CircuitBreaker', () => {
  it('opens on auth failure, fails fast without using attempts, then lets one probe through', () => {
    const { b, states, advance } = setup();
    b.beforeCall();
    expect(b.onAuthFailure()).toBe(true);
    const err = rejection(() => b.beforeCall());
    expect(err.code).toBe('lobaro_auth');
    expect(err.consumesAttempt).toBe(false);
    expect(err.retryAfterMs).toBe(60_000);
    advance(60_000);
    expect(b.current).toBe('half_open');
    b.beforeCall(); // the probe
    expect(rejection(() => b.beforeCall()).code).toBe('lobaro_auth'); // only one probe
    b.onSuccess();
    b.beforeCall();
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed probe reopens without a second alarm', () => {
    const { b, advance } = setup();
    expect(b.onAuthFailure()).toBe(true);
    advance(60_000);
    b.beforeCall();
    expect(b.onAuthFailure()).toBe(false);
    expect(rejection(() => b.beforeCall()).retryAfterMs).toBe(60_000);
  });

  it('429 pauses every call until Retry-After has passed', () => {
    const { b, advance } = setup();
    b.pause(5_000);
    const err = rejection(() => b.beforeCall());
    expect(err.code).toBe('lobaro_rate_limited');
    expect(err.retryAfterMs).toBe(5_000);
    advance(4_999);
    expect(() => b.beforeCall()).toThrow();
    advance(1);
    b.beforeCall(); // one probe after the pause
    expect(rejection(() => b.beforeCall()).code).toBe('lobaro_rate_limited'); // the rest wait for it
    b.onSuccess();
    b.beforeCall();
    b.beforeCall();
  });

  it('follows another instance: adopts a later open circuit and pause, and reports its own decisions', () => {
    const { b, advance } = setup();
    const shared: string[] = [];
    b.sink = { opened: (u) => shared.push(`open:${u}`), paused: (u) => shared.push(`pause:${u}`), closed: () => shared.push('closed') };
    b.adopt({ openUntil: 1_000_000 + 30_000, pausedUntil: 0 });
    expect(b.current).toBe('open');
    expect(rejection(() => b.beforeCall()).retryAfterMs).toBe(30_000);
    b.adopt({ openUntil: 0, pausedUntil: 0 }); // an older state never shortens ours
    expect(b.current).toBe('open');
    advance(30_000);
    b.beforeCall(); // probe
    b.onSuccess();
    b.pause(2_000);
    b.onAuthFailure();
    expect(shared).toEqual(['closed', `pause:${1_000_000 + 32_000}`, `open:${1_000_000 + 90_000}`]);
    b.adopt({ openUntil: 0, pausedUntil: 1_000_000 + 100_000 });
    advance(60_000);
    expect(rejection(() => b.beforeCall()).code).toBe('lobaro_rate_limited');
  });
});
