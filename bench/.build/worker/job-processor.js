import { backoffDelayMs } from '../lib/backoff.js';
import { meterFromHeader, ParseError } from '../parser/parser.js';
import { errorPayload, readingPayload } from '../publish/payloads.js';
import { parseHeader } from '../wmbus/index.js';
/**
 * Runs one job: header → key → parser → final state + outgoing MQTT message
 * in one transaction. Failures become data (attempts, last_error,
 * next_attempt_at); nothing here throws to the caller except a database error,
 * which leaves the job leased so it is picked up again.
 */
export class JobProcessor {
    store;
    keys;
    parser;
    mappings;
    topics;
    events;
    log;
    opts;
    constructor(store, keys, parser, mappings, topics, events, log, opts) {
        this.store = store;
        this.keys = keys;
        this.parser = parser;
        this.mappings = mappings;
        this.topics = topics;
        this.events = events;
        this.log = log;
        this.opts = opts;
    }
    async process(job) {
        const header = readHeader(job.rawHex);
        const attempt = job.attempts + 1;
        try {
            const keyHex = await this.keys.resolve(job, header);
            const result = await this.parser.parse({
                ingestId: job.ingestId,
                rawHex: job.rawHex,
                keyHex,
                header,
                mappings: this.mappings.get(),
                finalAttempt: attempt >= this.opts.maxAttempts,
            });
            const payload = readingPayload(job, result);
            const text = JSON.stringify(payload);
            await this.store.finishJob(job.ingestId, {
                status: 'done', attempts: attempt, errorCode: null, lastError: null, parsedJson: text, now: Date.now(),
                messages: [{
                        ingestId: job.ingestId, kind: 'reading', // The radio address (or the gateway's hint) keys the topic, so one device keeps one topic whichever parser ran.
                        topic: this.topics.reading(job.gatewayId, job.meterId ?? result.meter.id),
                        payload: text, qos: this.opts.qos, retain: this.opts.retainReadings,
                    }],
            });
            this.events.emit('jobFinished', { ingestId: job.ingestId, status: 'done', attempts: attempt, payload });
        }
        catch (err) {
            await this.onFailure(job, header, attempt, toParseError(err, this.log, job.ingestId));
        }
    }
    async onFailure(job, header, attempt, err) {
        const now = Date.now();
        if (!err.consumesAttempt) {
            await this.store.retryJob(job.ingestId, {
                attempts: job.attempts, nextAttemptAt: now + (err.retryAfterMs ?? 1_000), errorCode: err.code, lastError: err.message,
            });
            return;
        }
        if (err.retryable && attempt < this.opts.maxAttempts) {
            const delayMs = backoffDelayMs(attempt, { retryAfterMs: err.retryAfterMs, policy: this.opts.backoff });
            await this.store.retryJob(job.ingestId, { attempts: attempt, nextAttemptAt: now + delayMs, errorCode: err.code, lastError: err.message });
            this.events.emit('jobRetry', { ingestId: job.ingestId, attempt, delayMs, code: err.code });
            this.log.warn({ ingestId: job.ingestId, code: err.code, attempt, delayMs }, 'parse failed; will retry');
            return;
        }
        const error = { code: err.code, message: err.message, attempts: attempt };
        if (err.httpStatus !== undefined)
            error.http_status = err.httpStatus;
        const payload = errorPayload(job, meterFromHeader(header, job.meterId), error);
        const text = JSON.stringify(payload);
        await this.store.finishJob(job.ingestId, {
            status: 'error', attempts: attempt, errorCode: err.code, lastError: err.message, parsedJson: text, now,
            messages: [{ ingestId: job.ingestId, kind: 'error', topic: this.topics.error(job.gatewayId, job.ingestId), payload: text, qos: this.opts.qos, retain: false }],
        });
        this.events.emit('jobFinished', { ingestId: job.ingestId, status: 'error', code: err.code, attempts: attempt, payload });
        this.log.warn({ ingestId: job.ingestId, code: err.code, attempts: attempt }, 'telegram failed; error published');
    }
}
function readHeader(rawHex) {
    try {
        return parseHeader(rawHex);
    }
    catch {
        return null;
    }
}
function toParseError(err, log, ingestId) {
    if (err instanceof ParseError)
        return err;
    log.error({ ingestId, err }, 'unexpected error while parsing');
    return new ParseError('parse_failed', err instanceof Error ? err.message : String(err));
}
