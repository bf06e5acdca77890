import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveRateLimiter } from '../../src/parser/lobaro/adaptive-rate-limiter.js';
import { ParseError } from '../../src/parser/parser.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Scenario {
  jobs: number;
  /** Parser limit, requests/s, and its bucket size. */
  limit: number;
  burst: number;
  workers: number;
  latencyMs: number;
  /** Jobs become runnable at this rate (an ingest still going on); Infinity = all at once. */
  arrivalsPerS?: number;
}

/**
 * Worker loop against a simulated token-bucket parser on fake timers: what the
 * pipeline does around LobaroParser, reduced to the limiter's part (a rejected
 * job comes back after Retry-After: 1 s; "stalled" pauses every call for it).
 */
async function simulate(s: Scenario) {
  const limiter = new AdaptiveRateLimiter({ maxRate: Number.POSITIVE_INFINITY });
  const start = Date.now();
  let tokens = s.burst;
  let refilledAt = start;
  const admit = (): boolean => {
    const now = Date.now();
    tokens = Math.min(s.burst, tokens + ((now - refilledAt) / 1_000) * s.limit);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const runnableAt = Array.from({ length: s.jobs }, (_, i) => start + (s.arrivalsPerS ? (i * 1_000) / s.arrivalsPerS : 0));
  let done = 0;
  let calls = 0;
  let rejected = 0;
  let pausedUntil = 0;
  let finishedAt = start;
  const take = (): number | undefined => {
    const now = Date.now();
    if (now < pausedUntil) return undefined;
    const i = runnableAt.findIndex((t) => t <= now);
    return i < 0 ? undefined : runnableAt.splice(i, 1)[0];
  };
  const worker = async (): Promise<void> => {
    while (done < s.jobs) {
      if (take() === undefined) {
        await sleep(5);
        continue;
      }
      let ticket: Awaited<ReturnType<AdaptiveRateLimiter['acquire']>>;
      try {
        ticket = await limiter.acquire();
      } catch (err) {
        runnableAt.push(Date.now() + (err as ParseError).retryAfterMs!);
        continue;
      }
      await sleep(s.latencyMs / 2);
      const ok = admit();
      calls += 1;
      await sleep(s.latencyMs / 2);
      if (ok) {
        limiter.onAccepted();
        done += 1;
        finishedAt = Date.now();
      } else {
        rejected += 1;
        if (limiter.onRejected(ticket) === 'stalled') pausedUntil = Date.now() + 1_000;
        runnableAt.push(Date.now() + 1_000);
      }
    }
  };
  const all = Promise.all(Array.from({ length: s.workers }, worker));
  const trace: string[] = [];
  let lastDone = 0;
  let lastRej = 0;
  let tick = 0;
  while (done < s.jobs) {
    await vi.advanceTimersByTimeAsync(10);
    if (++tick % 50 === 0) {
      trace.push(`${tick / 100}s:${limiter.allowedRate.toFixed(0)}/${done - lastDone}/${rejected - lastRej}${pausedUntil > Date.now() ? 'P' : ''}`);
      lastDone = done;
      lastRej = rejected;
    }
  }
  if (process.env.TRACE) console.log(trace.join(' '));
  await vi.advanceTimersByTimeAsync(100);
  await all;
  const perS = s.jobs / ((finishedAt - start) / 1_000);
  return { used: perS / s.limit, rejectedShare: rejected / calls, calls, rejected, finalRate: limiter.allowedRate };
}

describe('AdaptiveRateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('paces 2,000 jobs with 32 workers to a 100/s parser: ≥ 90 % of the limit used, ≤ 5 % of calls rejected', async () => {
    const r = await simulate({ jobs: 2_000, limit: 100, burst: 10, workers: 32, latencyMs: 20 });
    console.log(`limiter, 100/s parser: ${(r.used * 100).toFixed(1)} % used, ${r.rejected}/${r.calls} rejected, rate now ${r.finalRate.toFixed(1)}/s`);
    expect(r.used).toBeGreaterThanOrEqual(0.9);
    expect(r.rejectedShare).toBeLessThanOrEqual(0.05);
    expect(r.finalRate).toBeGreaterThan(80);
    expect(r.finalRate).toBeLessThan(125);
  });

  it('jobs arriving while they are parsed (an ingest still going on): the first, poorly measured cut does not leave the rate far below the limit', async () => {
    const r = await simulate({ jobs: 2_000, limit: 100, burst: 10, workers: 32, latencyMs: 20, arrivalsPerS: 400 });
    const trickle = await simulate({ jobs: 2_000, limit: 100, burst: 10, workers: 32, latencyMs: 5, arrivalsPerS: 110 });
    console.log(`limiter, jobs arriving at 400/s: ${(r.used * 100).toFixed(1)} % used; at 110/s: ${(trickle.used * 100).toFixed(1)} % used, ${trickle.rejected} rejected`);
    expect(r.used).toBeGreaterThanOrEqual(0.9);
    expect(trickle.used).toBeGreaterThanOrEqual(0.9);
    expect(trickle.rejectedShare).toBeLessThanOrEqual(0.05);
  });

  it('a 5/s parser: found and used, though a second holds fewer than 10 calls', async () => {
    const r = await simulate({ jobs: 200, limit: 5, burst: 1, workers: 32, latencyMs: 50 });
    console.log(`limiter, 5/s parser: ${(r.used * 100).toFixed(1)} % used, ${r.rejected}/${r.calls} rejected`);
    expect(r.used).toBeGreaterThanOrEqual(0.8);
    // Past the start-up burst, probing costs about one rejected call every 2 s
    // whatever the rate: 0.5 % of calls at 100/s, about 10 % at 5/s.
    expect(r.rejected - 31).toBeLessThanOrEqual(0.15 * r.calls);
  });

  it('a slow parser (300 ms a call) with a 20/s limit and a 4-call bucket: still ≥ 90 % used, ≤ 5 % rejected', async () => {
    const r = await simulate({ jobs: 2_000, limit: 20, burst: 4, workers: 32, latencyMs: 300 });
    console.log(`limiter, 20/s parser at 300 ms: ${(r.used * 100).toFixed(1)} % used, ${r.rejected}/${r.calls} rejected`);
    expect(r.used).toBeGreaterThanOrEqual(0.9);
    expect(r.rejectedShare).toBeLessThanOrEqual(0.05);
  });

  it('cuts once per overload: answers to calls sent before the cut are stale', () => {
    let now = 0;
    const limiter = new AdaptiveRateLimiter({ maxRate: 100, now: () => now });
    for (let i = 0; i < 50; i++) {
      now += 10;
      limiter.onAccepted();
    }
    const early = { takenAt: now - 5 };
    expect(limiter.onRejected({ takenAt: now })).toBe('slowed');
    const cut = limiter.allowedRate;
    expect(cut).toBeLessThan(100);
    now += 1;
    expect(limiter.onRejected(early)).toBe('stale');
    expect(limiter.allowedRate).toBe(cut);
  });

  it('a rejection among a handful of calls (a trickle of telegrams) leaves the rate alone', () => {
    let now = 0;
    const limiter = new AdaptiveRateLimiter({ maxRate: Number.POSITIVE_INFINITY, now: () => now });
    for (let i = 0; i < 3; i++) {
      now += 300;
      limiter.onAccepted();
    }
    expect(limiter.onRejected({ takenAt: now })).toBe('sparse');
    expect(limiter.allowedRate).toBe(Number.POSITIVE_INFINITY);
  });

  it('nothing accepted in the window: stalled (pause for Retry-After), rate kept', () => {
    let now = 0;
    const limiter = new AdaptiveRateLimiter({ maxRate: 50, now: () => now });
    now = 5_000;
    expect(limiter.onRejected({ takenAt: now })).toBe('stalled');
    expect(limiter.allowedRate).toBe(50);
  });

  it('never waits longer than maxWaitMs: the job goes back to the queue without using an attempt', async () => {
    const limiter = new AdaptiveRateLimiter({ maxRate: 1, maxWaitMs: 1_500 });
    await limiter.acquire();
    const second = limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({ code: 'lobaro_rate_limited', consumesAttempt: false });
    await vi.advanceTimersByTimeAsync(1_000);
    await second;
  });

  it('close() wakes waiting calls with a no-attempt error', async () => {
    const limiter = new AdaptiveRateLimiter({ maxRate: 1 });
    await limiter.acquire();
    const waiting = limiter.acquire();
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(ParseError);
    await expect(waiting).rejects.toMatchObject({ consumesAttempt: false });
    expect(vi.getTimerCount()).toBe(0);
  });
});
