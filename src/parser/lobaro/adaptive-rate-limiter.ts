import { ParseError } from '../parser.js';

export interface AdaptiveRateOptions {
  /** Upper bound of the allowed rate, requests/s (LOBARO_RATE_LIMIT); Infinity = unpaced until the parser first rejects a call. */
  maxRate: number;
  /** Lower bound of the allowed rate, requests/s. Default 1. */
  minRate?: number;
  /** Factor a rejection applies to the rate (in slow start: to the rate accepted over the window), 0–1. Default 0.9. */
  decrease?: number;
  /** Requests/s added per accepted call while the allowance is in use, so the rate grows by this share per second. Default 0.05. */
  increase?: number;
  /** Window over which the accepted rate is measured, ms. Default 1000. */
  windowMs?: number;
  /** A slot further away than this is not waited for; the caller re-queues the job. Default 5000 ms. */
  maxWaitMs?: number;
  now?: () => number;
}

/** Handed out with a slot; tells a rejection that answers an old overload from a new one. */
export interface RateTicket {
  /** When the slot was handed out: a slot taken before a cut was spaced at the old rate. */
  takenAt: number;
}

/**
 * What a rejection (429, or 503 with Retry-After) meant: `slowed` = the rate
 * was cut; `stale` = the call's slot was handed out before the last cut, so the cut already
 * answers it; `stalled` = nothing got through in the window, pacing cannot
 * help and the caller pauses all calls for the Retry-After; `sparse` = no
 * call waits for a slot and too few went out in the window to tell the
 * parser's limit from the bridge's own trickle, so only this job waits (a cut
 * would pin the rate to the trickle).
 */
export type ThrottleOutcome = 'slowed' | 'stale' | 'stalled' | 'sparse';

/**
 * Paces calls to a rate-limited parser. AIMD as in TCP congestion control
 * (and the AWS SDKs' "adaptive" retry mode): a rejection cuts the allowed rate
 * to `decrease` × itself; every accepted call adds `increase` requests/s, so
 * the rate probes upwards by about 5 % a second.
 *
 * It starts unpaced and in "slow start": a rejection cuts to `decrease` × the
 * rate the parser actually accepted over the last window (so the first one
 * lands near the limit instead of halving its way down), and each accepted
 * call adds 1 request/s, so the rate doubles every second. That first measure
 * is often taken on a start-up burst or on a pipeline still busy with ingest
 * and can land far below the limit; doubling finds the limit again quickly.
 *
 * Calls wait for evenly spaced slots; an idle pacer earns no burst credit.
 */
export class AdaptiveRateLimiter {
  private rate: number;
  /** When the last slot was handed out. */
  private lastSlotAt = Number.NEGATIVE_INFINITY;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private firstCallAt: number | undefined;
  private readonly accepted: number[] = [];
  private readonly rejected: number[] = [];
  private readonly waiting: Array<{ resolve: (t: RateTicket) => void; reject: (err: Error) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private slowStart = true;
  private readonly minRate: number;
  private readonly decrease: number;
  private readonly increase: number;
  private readonly windowMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: AdaptiveRateOptions) {
    this.rate = opts.maxRate;
    this.minRate = opts.minRate ?? 1;
    this.decrease = opts.decrease ?? 0.9;
    this.increase = opts.increase ?? 0.05;
    this.windowMs = opts.windowMs ?? 1_000;
    this.maxWaitMs = opts.maxWaitMs ?? 5_000;
    this.now = opts.now ?? Date.now;
  }

  /** Allowed requests/s; Infinity while no limit is known. */
  get allowedRate(): number {
    return this.rate;
  }

  /**
   * Waits for this call's slot (first come, first served, spaced at the rate
   * allowed when the slot comes up). Throws a ParseError that uses no attempt
   * when the wait would exceed `maxWaitMs` (the job goes back to the queue
   * until then) or the limiter is closed.
   */
  acquire(): Promise<RateTicket> {
    if (this.closed) return Promise.reject(pacedError(1_000));
    const now = this.now();
    this.firstCallAt ??= now;
    if (this.waiting.length === 0 && now >= this.nextSlotAt()) return Promise.resolve(this.take(now));
    const waitMs = Math.max(0, this.nextSlotAt() - now) + (this.waiting.length * 1_000) / this.rate;
    // Back in the queue, the job is claimed again once the line is shorter.
    if (waitMs > this.maxWaitMs) return Promise.reject(pacedError(Math.max(1_000, waitMs - this.maxWaitMs)));
    return new Promise<RateTicket>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.schedule();
    });
  }

  onAccepted(): void {
    const now = this.now();
    this.accepted.push(now);
    this.trim(now);
    // Grow only while most of the allowance is used; an idle (or CPU-bound)
    // bridge must not drift to a rate it never tried.
    if (Number.isFinite(this.rate) && this.acceptedRate(now) >= 0.8 * this.rate) {
      this.rate = Math.min(this.opts.maxRate, this.rate + (this.slowStart ? 1 : this.increase));
    }
  }

  onRejected(ticket: RateTicket): ThrottleOutcome {
    const now = this.now();
    if (ticket.takenAt <= this.lastCutAt) return 'stale';
    this.trim(now);
    this.rejected.push(now);
    const measured = this.acceptedRate(now);
    if (measured === 0) return 'stalled';
    if (this.waiting.length === 0 && this.accepted.length + this.rejected.length < MIN_SAMPLE) return 'sparse';
    let base = this.rate;
    if (this.slowStart) {
      // Cut to what got through: after doubling past the limit that is the
      // limit. Leave slow start once that measure is sound (a full window, and
      // the pace, not a pipeline still busy with ingest, held calls back).
      base = Math.min(this.rate, measured);
      if (now - (this.firstCallAt ?? now) >= this.windowMs && measured >= 0.5 * this.rate) this.slowStart = false;
    }
    // Past slow start a rejection is one step down, whatever got through: a
    // burst after an event-loop stall, or a pipeline slower than the pace, must
    // not drag the rate to the pipeline's worst second.
    this.rate = Math.min(this.opts.maxRate, Math.max(this.minRate, base * this.decrease));
    this.lastCutAt = now;
    return 'slowed';
  }

  /** Wakes every waiting call with a no-attempt error, so a stopping pool drains at once. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w.reject(pacedError(1_000));
  }

  private nextSlotAt(): number {
    return Number.isFinite(this.rate) ? this.lastSlotAt + 1_000 / this.rate : Number.NEGATIVE_INFINITY;
  }

  private take(now: number): RateTicket {
    // A timer a little late keeps the schedule (no drift below the rate); one
    // very late (an event-loop stall) starts it afresh instead of bursting.
    const due = this.nextSlotAt();
    this.lastSlotAt = Number.isFinite(due) && now - due < 1_000 / this.rate ? due : now;
    return { takenAt: now };
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiting.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = this.now();
      while (this.waiting.length > 0 && now >= this.nextSlotAt()) {
        this.waiting.shift()!.resolve(this.take(now));
        if (Number.isFinite(this.rate)) break;
      }
      this.schedule();
    }, Math.max(0, Math.ceil(this.nextSlotAt() - this.now())));
  }

  /** Accepted calls per second over the window (or since the first call, when that is shorter; at least 100 ms so one early answer is no spike). */
  private acceptedRate(now: number): number {
    const span = Math.max(100, Math.min(this.windowMs, now - (this.firstCallAt ?? now)));
    return (this.accepted.length * 1_000) / span;
  }

  private trim(now: number): void {
    dropBefore(this.accepted, now - this.windowMs);
    dropBefore(this.rejected, now - this.windowMs);
  }
}

/** Calls (accepted + rejected) in the window below which a rejection says nothing about the limit. */
const MIN_SAMPLE = 10;

function dropBefore(times: number[], from: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! < from) drop += 1;
  if (drop > 0) times.splice(0, drop);
}

function pacedError(retryAfterMs: number): ParseError {
  return new ParseError('lobaro_rate_limited', 'waiting for a slot under the Lobaro rate limit', {
    retryable: true, consumesAttempt: false, retryAfterMs: Math.ceil(retryAfterMs),
  });
}
