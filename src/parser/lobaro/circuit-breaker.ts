import { ParseError } from '../parser.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Receives local decisions so other instances can follow them (see SharedCircuit). */
export interface CircuitSink {
  opened(untilMs: number): void;
  paused(untilMs: number): void;
  closed(): void;
}

/**
 * Circuit breaker for Lobaro auth failures plus the shared 429 pause
 * (cockatiel's closed → open → half-open machine). While open, calls fail fast
 * without using a telegram's attempts; after the pause one probe is let through.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private openUntil = 0;
  private pausedUntil = 0;
  private probeInFlight = false;
  sink: CircuitSink | undefined;

  constructor(
    private readonly authPauseMs: number,
    private readonly onState: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get current(): CircuitState {
    if (this.state === 'open' && this.now() >= this.openUntil) return 'half_open';
    return this.state;
  }

  /**
   * Throws a ParseError (consumesAttempt=false) when no call may go out now.
   * After an auth pause or a 429 pause, one probe goes first; the others wait
   * for its outcome instead of all hitting the server at the same instant.
   */
  beforeCall(): void {
    const now = this.now();
    if (this.state === 'open') {
      if (now < this.openUntil) throw this.openError(this.openUntil - now);
      this.transition('half_open');
    }
    if (now < this.pausedUntil) throw this.rateLimitError(this.pausedUntil - now);
    const recovering = this.state === 'half_open' || this.pausedUntil > 0;
    if (!recovering) return;
    if (this.probeInFlight) throw this.state === 'half_open' ? this.openError(1_000) : this.rateLimitError(250);
    this.probeInFlight = true;
  }

  onSuccess(): void {
    this.probeInFlight = false;
    this.pausedUntil = 0;
    if (this.state !== 'closed') {
      this.transition('closed');
      this.sink?.closed();
    }
  }

  /** Any non-auth outcome ends a probe without closing or reopening the circuit. */
  onOtherFailure(): void {
    this.probeInFlight = false;
  }

  /** Returns true when this failure opened a closed circuit (so the caller raises one alarm, not one per job or probe). */
  onAuthFailure(): boolean {
    this.probeInFlight = false;
    const wasClosed = this.state === 'closed';
    this.openUntil = this.now() + this.authPauseMs;
    this.transition('open');
    this.sink?.opened(this.openUntil);
    return wasClosed;
  }

  /** 429: every call pauses until the server's Retry-After. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.sink?.paused(this.pausedUntil);
  }

  /** Follows what another instance decided: an open circuit or a 429 pause that ends later than ours. */
  adopt(shared: { openUntil: number; pausedUntil: number }): void {
    const now = this.now();
    if (shared.pausedUntil > now) this.pausedUntil = Math.max(this.pausedUntil, shared.pausedUntil);
    if (shared.openUntil > now && shared.openUntil > this.openUntil && !this.probeInFlight) {
      this.openUntil = shared.openUntil;
      this.transition('open');
    }
  }

  pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  private rateLimitError(retryAfterMs: number): ParseError {
    return new ParseError('lobaro_rate_limited', 'Lobaro rate limit pause', { retryable: true, consumesAttempt: false, retryAfterMs });
  }

  private openError(retryAfterMs: number): ParseError {
    return new ParseError('lobaro_auth', 'Lobaro circuit is open after an authentication failure', {
      retryable: true, consumesAttempt: false, retryAfterMs,
    });
  }

  private transition(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }
}
