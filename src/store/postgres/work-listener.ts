import pg from 'pg';

/** Channel of the "work enqueued" notification; the payload is the sender's token. */
export const WORK_CHANNEL = 'oms_bridge_work';

export interface WorkListenerOptions {
  /** Our own notifications carry this payload and are ignored: the ingest path already wakes local workers. */
  ownToken: string;
  /** Coalesces a burst of notifications into one call (ms, default 10). */
  debounceMs?: number;
  /** First reconnect delay, doubled up to `maxReconnectMs` (ms, defaults 250 and 10 000). */
  reconnectMs?: number;
  maxReconnectMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * One dedicated connection that LISTENs on {@link WORK_CHANNEL} and calls the
 * registered listeners. A pooled connection cannot listen (it is handed to other
 * queries), so this one lives outside the pool. When the connection drops it is
 * re-opened with capped backoff, and listeners are called once after reconnecting
 * because notifications sent meanwhile are lost.
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly opts: WorkListenerOptions,
  ) {}

  /** Connects and LISTENs; rejects when the first connection fails. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.debounceTimer);
    this.reconnectTimer = undefined;
    this.debounceTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }

  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    let dropped = false;
    const drop = (err?: unknown): void => {
      if (dropped) return;
      dropped = true;
      if (err !== undefined) this.opts.onError?.(err);
      if (this.client === client) this.client = undefined;
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (msg) => {
      if (msg.channel === WORK_CHANNEL && msg.payload !== this.opts.ownToken) this.notify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (err) {
      dropped = true; // the caller (start or the reconnect timer) handles this failure
      client.end().catch(() => {});
      throw err;
    }
    if (!this.running) {
      dropped = true;
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const base = this.opts.reconnectMs ?? 250;
    const delay = Math.min(this.opts.maxReconnectMs ?? 10_000, base * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.running) return;
      this.connect().then(
        () => this.notify(),
        (err: unknown) => {
          this.opts.onError?.(err);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  private notify(): void {
    if (this.debounceTimer || !this.running) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      for (const listener of [...this.listeners]) {
        try {
          listener();
        } catch (err) {
          // One failing listener must not keep the others from waking up.
          this.opts.onError?.(err);
        }
      }
    }, this.opts.debounceMs ?? 10);
  }
}
