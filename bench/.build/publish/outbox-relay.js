import { withTimeout } from './mqtt-connection.js';
/**
 * Moves messages from the outbox table to the broker. A row is deleted only
 * after the broker's acknowledgement, so a crash between publish and delete
 * gives a redelivery with the same ingest_id, never a loss. RAM holds at most
 * one batch; the backlog lives in the database.
 */
export class OutboxRelay {
    store;
    mqtt;
    events;
    log;
    opts;
    running = false;
    loopDone;
    wakeUp;
    pendingWake = false;
    drainUntil = 0;
    constructor(store, mqtt, events, log, opts) {
        this.store = store;
        this.mqtt = mqtt;
        this.events = events;
        this.log = log;
        this.opts = opts;
    }
    start() {
        if (this.running)
            return;
        this.running = true;
        this.loopDone = this.loop();
    }
    wake() {
        if (this.wakeUp) {
            const w = this.wakeUp;
            this.wakeUp = undefined;
            w();
        }
        else {
            this.pendingWake = true;
        }
    }
    /** Publishes what is left while the broker is reachable, for at most `flushMs`, then stops. */
    async stop(flushMs = 5_000) {
        if (!this.running)
            return;
        this.drainUntil = Date.now() + flushMs;
        this.running = false;
        this.wake();
        await this.loopDone;
    }
    async loop() {
        for (;;) {
            const draining = !this.running;
            if (draining && (Date.now() >= this.drainUntil || !this.mqtt.connected))
                return;
            if (!this.mqtt.connected) {
                await this.mqtt.waitForConnect(this.opts.idlePollMs);
                continue;
            }
            let sent = 0;
            try {
                sent = await this.publishBatch();
            }
            catch (err) {
                this.log.error({ err }, 'outbox relay failed; retrying');
                await this.sleep(this.opts.idlePollMs);
                continue;
            }
            if (sent === 0) {
                if (draining)
                    return;
                await this.sleep(this.opts.idlePollMs);
            }
        }
    }
    /** Returns how many rows were taken (0 = nothing to do or broker gone). */
    async publishBatch() {
        const rows = await this.store.claimOutbox(this.opts.batchSize, Date.now(), this.opts.instanceId, this.opts.leaseMs);
        if (rows.length === 0)
            return 0;
        const results = await Promise.allSettled(rows.map((r) => withTimeout(this.mqtt.publish(r.topic, r.payload, r.qos, r.retain), this.opts.publishTimeoutMs)));
        const acked = [];
        const failed = [];
        const counts = new Map();
        results.forEach((res, i) => {
            const row = rows[i];
            if (res.status === 'fulfilled') {
                acked.push(row.id);
                counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
            }
            else {
                failed.push(row.id);
            }
        });
        if (acked.length > 0)
            await this.store.markPublished(acked, Date.now());
        if (failed.length > 0) {
            await this.store.releaseOutbox(failed);
            this.log.warn({ failed: failed.length }, 'publishing failed; messages stay in the outbox');
        }
        for (const [kind, count] of counts) {
            if (kind !== 'status')
                this.events.emit('published', { topicKind: kind, count });
        }
        return failed.length > 0 ? 0 : rows.length;
    }
    sleep(ms) {
        if (this.pendingWake) {
            this.pendingWake = false;
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.wakeUp = undefined;
                resolve();
            }, ms);
            this.wakeUp = () => {
                clearTimeout(timer);
                resolve();
            };
        });
    }
}
