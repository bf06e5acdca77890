import type { Logger } from '../../observability/logger.js';
import type { ParserStateStore } from '../../store/roles.js';
import type { CircuitBreaker, CircuitSink } from './circuit-breaker.js';

/**
 * Shares the Lobaro circuit and 429 pause through the database, so a revoked
 * token or a rate limit is honoured by every instance instead of being
 * discovered N times. Pushes local decisions at once, pulls others' every
 * `pollMs`.
 */
export class SharedCircuit implements CircuitSink {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ParserStateStore,
    private readonly breaker: CircuitBreaker,
    private readonly log: Logger,
    private readonly pollMs = 1_000,
  ) {}

  async start(): Promise<void> {
    this.breaker.sink = this;
    await this.pull();
    this.timer = setInterval(() => void this.pull(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.breaker.sink = undefined;
  }

  opened(untilMs: number): void {
    this.write(this.store.raiseParserState({ openUntil: untilMs }));
  }

  paused(untilMs: number): void {
    this.write(this.store.raiseParserState({ pausedUntil: untilMs }));
  }

  closed(): void {
    this.write(this.store.closeCircuit());
  }

  private write(p: Promise<void>): void {
    p.catch((err: unknown) => this.log.warn({ err }, 'sharing the Lobaro circuit state failed'));
  }

  private async pull(): Promise<void> {
    try {
      this.breaker.adopt(await this.store.getParserState());
    } catch (err) {
      this.log.warn({ err }, 'reading the shared Lobaro circuit state failed');
    }
  }
}
