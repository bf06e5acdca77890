import pg from 'pg';
/** Channel of the "work enqueued" notification; the payload is the sender's token. */
export const WORK_CHANNEL = 'oms_bridge_work';
/**
 * One dedicated connection that LISTENs on {@link WORK_CHANNEL} and calls the
 * registered listeners. A pooled connection cannot listen (it is handed to other
 * queries), so this one lives outside the pool. When the connection drops it is
 * re-opened with capped backoff, and listeners are called once after reconnecting
 * because notifications sent meanwhile are lost.
 */
export class WorkListener {
    config;
    opts;
    listeners = new Set();
    client;
    running = false;
    reconnectTimer;
    debounceTimer;
    failures = 0;
    constructor(config, opts) {
        this.config = config;
        this.opts = opts;
    }
    /** Connects and LISTENs; rejects when the first connection fails. */
    async start() {
        if (this.running)
            return;
        this.running = true;
        await this.connect();
    }
    async stop() {
        this.running = false;
        clearTimeout(this.reconnectTimer);
        clearTimeout(this.debounceTimer);
        this.reconnectTimer = undefined;
        this.debounceTimer = undefined;
        const client = this.client;
        this.client = undefined;
        if (client)
            await client.end().catch(() => { });
    }
    add(listener) {
        this.listeners.add(listener);
        return () => {
            this.listeners.delete(listener);
        };
    }
    async connect() {
        const client = new pg.Client(this.config);
        let dropped = false;
        const drop = (err) => {
            if (dropped)
                return;
            dropped = true;
            if (err !== undefined)
                this.opts.onError?.(err);
            if (this.client === client)
                this.client = undefined;
            client.end().catch(() => { });
            this.scheduleReconnect();
        };
        client.on('error', drop);
        client.on('end', () => drop());
        client.on('notification', (msg) => {
            if (msg.channel === WORK_CHANNEL && msg.payload !== this.opts.ownToken)
                this.notify();
        });
        try {
            await client.connect();
            await client.query(`LISTEN ${WORK_CHANNEL}`);
        }
        catch (err) {
            dropped = true; // the caller (start or the reconnect timer) handles this failure
            client.end().catch(() => { });
            throw err;
        }
        if (!this.running) {
            dropped = true;
            await client.end().catch(() => { });
            return;
        }
        this.client = client;
        this.failures = 0;
    }
    scheduleReconnect() {
        if (!this.running || this.reconnectTimer)
            return;
        const base = this.opts.reconnectMs ?? 250;
        const delay = Math.min(this.opts.maxReconnectMs ?? 10_000, base * 2 ** Math.min(this.failures, 16));
        this.failures++;
        this.reconnectTimer = setTimeout(() => {
            this.reconnectTimer = undefined;
            if (!this.running)
                return;
            this.connect().then(() => this.notify(), (err) => {
                this.opts.onError?.(err);
                this.scheduleReconnect();
            });
        }, delay);
    }
    notify() {
        if (this.debounceTimer || !this.running)
            return;
        this.debounceTimer = setTimeout(() => {
            this.debounceTimer = undefined;
            for (const listener of [...this.listeners]) {
                try {
                    listener();
                }
                catch (err) {
                    // One failing listener must not keep the others from waking up.
                    this.opts.onError?.(err);
                }
            }
        }, this.opts.debounceMs ?? 10);
    }
}
