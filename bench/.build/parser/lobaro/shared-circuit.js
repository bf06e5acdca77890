/**
 * Shares the Lobaro circuit and 429 pause through the database, so a revoked
 * token or a rate limit is honoured by every instance instead of being
 * discovered N times. Pushes local decisions at once, pulls others' every
 * `pollMs`.
 */
export class SharedCircuit {
    store;
    breaker;
    log;
    pollMs;
    timer;
    constructor(store, breaker, log, pollMs = 1_000) {
        this.store = store;
        this.breaker = breaker;
        this.log = log;
        this.pollMs = pollMs;
    }
    async start() {
        this.breaker.sink = this;
        await this.pull();
        this.timer = setInterval(() => void this.pull(), this.pollMs);
        this.timer.unref();
    }
    async stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
        this.breaker.sink = undefined;
    }
    opened(untilMs) {
        this.write(this.store.raiseParserState({ openUntil: untilMs }));
    }
    paused(untilMs) {
        this.write(this.store.raiseParserState({ pausedUntil: untilMs }));
    }
    closed() {
        this.write(this.store.closeCircuit());
    }
    write(p) {
        p.catch((err) => this.log.warn({ err }, 'sharing the Lobaro circuit state failed'));
    }
    async pull() {
        try {
            this.breaker.adopt(await this.store.getParserState());
        }
        catch (err) {
            this.log.warn({ err }, 'reading the shared Lobaro circuit state failed');
        }
    }
}
