/**
 * Failed admin logins per source address: after `maxFailures` inside
 * `windowMs` the address is refused (even with the right token) until the
 * window has passed, so a token cannot be guessed at request speed. Bounded:
 * at most `maxAddresses` are remembered; the oldest entry leaves first.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must wait, 0 when it may try. */
  retryAfterS(address: string): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    const left = f.since + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return f.count >= this.maxFailures ? Math.ceil(left / 1_000) : 0;
  }

  fail(address: string): void {
    const now = this.now();
    const f = this.failures.get(address);
    if (f && f.since + this.windowMs > now) {
      f.count += 1;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= this.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { count: 1, since: now });
  }
}
