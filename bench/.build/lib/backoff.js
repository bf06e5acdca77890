export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 60_000 };
/**
 * Delay before attempt `attempt + 1` (attempt counts from 1).
 * A server's Retry-After wins; otherwise capped exponential backoff with
 * "full jitter" (AWS architecture blog), so a fleet of workers does not
 * retry in lock-step.
 */
export function backoffDelayMs(attempt, opts = {}) {
    if (opts.retryAfterMs !== undefined && opts.retryAfterMs >= 0)
        return opts.retryAfterMs;
    const policy = opts.policy ?? DEFAULT_BACKOFF;
    const random = opts.random ?? Math.random;
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
    // Half fixed, half jitter: never 0 ms (no hot loop), never above the cap.
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
/**
 * Parses an HTTP Retry-After value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date. Returns milliseconds, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value, now = Date.now()) {
    const raw = Array.isArray(value) ? value[0] : value;
    if (raw === undefined)
        return undefined;
    const text = raw.trim();
    if (/^\d+$/.test(text))
        return Number(text) * 1_000;
    const date = Date.parse(text);
    if (Number.isNaN(date))
        return undefined;
    return Math.max(0, date - now);
}
