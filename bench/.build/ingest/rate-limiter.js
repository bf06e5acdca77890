/**
 * Per-gateway token bucket (INGEST_RATE_LIMIT requests/s, burst of one
 * second's worth). In memory and per instance: it protects this process,
 * not a global quota.
 */
export class RateLimiter {
    perSecond;
    now;
    buckets = new Map();
    constructor(perSecond, now = Date.now) {
        this.perSecond = perSecond;
        this.now = now;
    }
    /** 0 when allowed, else the seconds to wait (for Retry-After). */
    take(gatewayId) {
        const now = this.now();
        const b = this.buckets.get(gatewayId) ?? { tokens: this.perSecond, at: now };
        b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1_000) * this.perSecond);
        b.at = now;
        if (this.buckets.size > 100_000)
            this.buckets.clear();
        this.buckets.set(gatewayId, b);
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
    }
}
