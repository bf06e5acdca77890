import type { EventBus } from '../observability/events.js';
import type { TelegramQueries } from '../store/roles.js';

/** Lets `?sync=true` wait, bounded, for the payload a job published. */
export class ResultWaiter {
  private readonly waiting = new Map<string, Set<(payload: Record<string, unknown>) => void>>();

  constructor(
    events: EventBus,
    private readonly store: Pick<TelegramQueries, 'getTelegram'>,
  ) {
    events.on('jobFinished', ({ ingestId, payload }) => {
      const set = this.waiting.get(ingestId);
      if (!set) return;
      if (payload) return this.settle(ingestId, payload);
      void this.store.getTelegram(ingestId).then(
        (t) => this.settle(ingestId, t?.parsed as Record<string, unknown> | undefined),
        () => undefined, // the waiter's timeout answers
      );
    });
  }

  private settle(ingestId: string, payload: Record<string, unknown> | undefined): void {
    const set = this.waiting.get(ingestId);
    if (!set || !payload) return;
    this.waiting.delete(ingestId);
    for (const resolve of set) resolve(payload);
  }

  /** The final payload, or undefined after `timeoutMs`. */
  async wait(ingestId: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const settled = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const set = this.waiting.get(ingestId) ?? new Set();
      const done = (p: Record<string, unknown> | undefined): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(ingestId) === set) this.waiting.delete(ingestId);
        resolve(p);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      set.add(done);
      this.waiting.set(ingestId, set);
    });
    // A duplicate may already be final: answer from the database.
    const existing = await this.store.getTelegram(ingestId);
    if (existing && (existing.status === 'done' || existing.status === 'error') && existing.parsed) {
      const set = this.waiting.get(ingestId);
      if (set) for (const resolve of [...set]) resolve(existing.parsed as Record<string, unknown>);
    }
    return settled;
  }
}
