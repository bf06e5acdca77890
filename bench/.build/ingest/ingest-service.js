import { createHash, randomUUID } from 'node:crypto';
import { rawPayload } from '../publish/payloads.js';
import { parseHeader } from '../wmbus/index.js';
/**
 * Accepts a telegram: one local transaction (telegram + raw message), no
 * network call, so the 202 comes in well under a millisecond of work.
 * Backpressure reads cached depths (refreshed in the background and bumped
 * on every accept) instead of counting rows per request.
 */
export class IngestService {
    store;
    topics;
    events;
    log;
    opts;
    vault;
    onAccepted;
    depths = { queue: 0, outbox: 0, oldestOutboxAt: null };
    timer;
    constructor(store, topics, events, log, opts, vault, onAccepted) {
        this.store = store;
        this.topics = topics;
        this.events = events;
        this.log = log;
        this.opts = opts;
        this.vault = vault;
        this.onAccepted = onAccepted;
    }
    async start() {
        await this.refresh();
        this.timer = setInterval(() => void this.refresh(), this.opts.depthRefreshMs);
        this.timer.unref();
    }
    async stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
    }
    get currentDepths() {
        return this.depths;
    }
    /** Which limit is reached, if any. */
    full() {
        if (this.depths.queue >= this.opts.queueMax)
            return 'queue';
        if (this.depths.outbox >= this.opts.outboxMax)
            return 'outbox';
        return null;
    }
    async accept(input) {
        const started = performance.now();
        const rawHex = input.rawHex.toLowerCase();
        const header = safeHeader(rawHex);
        const job = {
            ingestId: randomUUID(),
            gatewayId: input.gatewayId,
            rxTime: input.rxTime ?? new Date().toISOString(),
            rssiDbm: input.rssiDbm ?? null,
            mode: input.mode ?? null,
            rawHex,
            meterId: input.meterHint?.meter_id ?? header?.meterId ?? null,
            manufacturer: input.meterHint?.manufacturer ?? header?.manufacturer ?? null,
            replay: false,
        };
        const raw = {
            ingestId: job.ingestId, kind: 'raw', topic: this.topics.raw(job.gatewayId, job.ingestId),
            payload: JSON.stringify(rawPayload(job)), qos: this.opts.qos, retain: false,
        };
        const result = await this.store.insertTelegram({
            ...job,
            dedupHash: dedupHash(job.gatewayId, rawHex),
            keyHex: input.keyHex ? this.vault.seal(input.keyHex.toUpperCase()) : null,
            createdAt: Date.now(),
        }, raw, this.opts.dedupWindowMs);
        if (result.duplicate) {
            this.events.emit('duplicate', { ingestId: result.ingestId, gatewayId: job.gatewayId });
            return result;
        }
        this.depths = { ...this.depths, queue: this.depths.queue + 1, outbox: this.depths.outbox + 1 };
        this.onAccepted();
        this.events.emit('accepted', { ingestId: result.ingestId, gatewayId: job.gatewayId, durationMs: performance.now() - started });
        return result;
    }
    async refresh() {
        try {
            this.depths = await this.store.depths();
        }
        catch (err) {
            this.log.error({ err }, 'reading queue depth failed');
        }
    }
}
/** sha256(gateway_id + raw_hex), hex; raw_hex lower-case so case does not defeat dedup. */
export function dedupHash(gatewayId, rawHex) {
    return createHash('sha256').update(gatewayId).update(rawHex.toLowerCase()).digest('hex');
}
function safeHeader(rawHex) {
    try {
        return parseHeader(rawHex);
    }
    catch {
        return null;
    }
}
