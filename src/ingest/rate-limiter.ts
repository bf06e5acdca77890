/**
 * Per-gateway token bucket (INGEST_RATE_LIMIT requests/s, burst of one
 * second's worth, at least one request). In memory and per instance: it
 * protects this process, not a global quota.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** A bucket below one token could never pass a request (INGEST_RATE_LIMIT=0.5 would refuse everything). */
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    // Monotonic: a wall clock stepped back would drive every bucket negative and refuse every gateway.
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, perSecond);
  }

  /** 0 when allowed, else the seconds to wait (for Retry-After). */
  take(gatewayId: string): number {
    const now = this.now();
    const b = this.buckets.get(gatewayId) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1_000) * this.perSecond);
    b.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(gatewayId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}
