import { ParseError } from '../parser.js';
/**
 * Circuit breaker for Lobaro auth failures plus the shared 429 pause
 * (cockatiel's closed → open → half-open machine). While open, calls fail fast
 * without using a telegram's attempts; after the pause one probe is let through.
 */
export class CircuitBreaker {
    authPauseMs;
    onState;
    now;
    state = 'closed';
    openUntil = 0;
    pausedUntil = 0;
    probeInFlight = false;
    sink;
    constructor(authPauseMs, onState = () => { }, now = Date.now) {
        this.authPauseMs = authPauseMs;
        this.onState = onState;
        this.now = now;
    }
    get current() {
        if (this.state === 'open' && this.now() >= this.openUntil)
            return 'half_open';
        return this.state;
    }
    /**
     * Throws a ParseError (consumesAttempt=false) when no call may go out now.
     * After an auth pause or a 429 pause, one probe goes first; the others wait
     * for its outcome instead of all hitting the server at the same instant.
     */
    beforeCall() {
        const now = this.now();
        if (this.state === 'open') {
            if (now < this.openUntil)
                throw this.openError(this.openUntil - now);
            this.transition('half_open');
        }
        if (now < this.pausedUntil)
            throw this.rateLimitError(this.pausedUntil - now);
        const recovering = this.state === 'half_open' || this.pausedUntil > 0;
        if (!recovering)
            return;
        if (this.probeInFlight)
            throw this.state === 'half_open' ? this.openError(1_000) : this.rateLimitError(250);
        this.probeInFlight = true;
    }
    onSuccess() {
        this.probeInFlight = false;
        this.pausedUntil = 0;
        if (this.state !== 'closed') {
            this.transition('closed');
            this.sink?.closed();
        }
    }
    /** Any non-auth outcome ends a probe without closing or reopening the circuit. */
    onOtherFailure() {
        this.probeInFlight = false;
    }
    /** Returns true when this failure opened a closed circuit (so the caller raises one alarm, not one per job or probe). */
    onAuthFailure() {
        this.probeInFlight = false;
        const wasClosed = this.state === 'closed';
        this.openUntil = this.now() + this.authPauseMs;
        this.transition('open');
        this.sink?.opened(this.openUntil);
        return wasClosed;
    }
    /** 429: every call pauses until the server's Retry-After. */
    pause(ms) {
        this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
        this.sink?.paused(this.pausedUntil);
    }
    /** Follows what another instance decided: an open circuit or a 429 pause that ends later than ours. */
    adopt(shared) {
        const now = this.now();
        if (shared.pausedUntil > now)
            this.pausedUntil = Math.max(this.pausedUntil, shared.pausedUntil);
        if (shared.openUntil > now && shared.openUntil > this.openUntil && !this.probeInFlight) {
            this.openUntil = shared.openUntil;
            this.transition('open');
        }
    }
    pauseRemainingMs() {
        return Math.max(0, this.pausedUntil - this.now());
    }
    rateLimitError(retryAfterMs) {
        return new ParseError('lobaro_rate_limited', 'Lobaro rate limit pause', { retryable: true, consumesAttempt: false, retryAfterMs });
    }
    openError(retryAfterMs) {
        return new ParseError('lobaro_auth', 'Lobaro circuit is open after an authentication failure', {
            retryable: true, consumesAttempt: false, retryAfterMs,
        });
    }
    transition(state) {
        if (this.state === state)
            return;
        this.state = state;
        this.onState(state);
    }
}
