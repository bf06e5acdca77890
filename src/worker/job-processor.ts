import { backoffDelayMs, type BackoffPolicy } from '../lib/backoff.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { KeyResolver } from '../parser/key-resolver.js';
import { meterFromHeader, ParseError, type Parser } from '../parser/parser.js';
import { errorPayload, readingPayload, type JobError } from '../publish/payloads.js';
import type { Topics } from '../publish/topics.js';
import type { MappingStore } from '../store/mapping-store.js';
import type { Job, TelegramStore } from '../store/store.js';
import { parseHeader, type TelegramHeader } from '../wmbus/index.js';

export interface JobProcessorOptions {
  maxAttempts: number;
  backoff: BackoffPolicy;
  qos: 0 | 1 | 2;
  retainReadings: boolean;
}

/**
 * Runs one job: header → key → parser → final state + outgoing MQTT message
 * in one transaction. Failures become data (attempts, last_error,
 * next_attempt_at); nothing here throws to the caller except a database error,
 * which leaves the job leased so it is picked up again.
 */
export class JobProcessor {
  constructor(
    private readonly store: TelegramStore,
    private readonly keys: KeyResolver,
    private readonly parser: Parser,
    private readonly mappings: MappingStore,
    private readonly topics: Topics,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: JobProcessorOptions,
  ) {}

  async process(job: Job): Promise<void> {
    const header = readHeader(job.rawHex);
    const attempt = job.attempts + 1;
    try {
      const { keyHex, predecrypted } = await this.keys.resolve(job, header);
      const result = await this.parser.parse({
        ingestId: job.ingestId,
        rawHex: job.rawHex,
        keyHex,
        header,
        mappings: this.mappings.get(),
        finalAttempt: attempt >= this.opts.maxAttempts,
        predecrypted,
      });
      // A parser that cannot tell (Lobaro) decrypted with our key exactly when the header said encrypted and the body was not taken as plain.
      const authenticated = result.authenticated ?? (keyHex !== null && header?.encrypted === true && !predecrypted);
      const payload = readingPayload(job, result, authenticated);
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
    } catch (err) {
      await this.onFailure(job, header, attempt, toParseError(err, this.log, job.ingestId));
    }
  }

  private async onFailure(job: Job, header: TelegramHeader | null, attempt: number, err: ParseError): Promise<void> {
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
    const error: JobError = { code: err.code, message: err.message, attempts: attempt };
    if (err.httpStatus !== undefined) error.http_status = err.httpStatus;
    if (err.reason !== undefined) error.reason = err.reason;
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

function readHeader(rawHex: string): TelegramHeader | null {
  try {
    return parseHeader(rawHex);
  } catch {
    return null;
  }
}

function toParseError(err: unknown, log: Logger, ingestId: string): ParseError {
  if (err instanceof ParseError) return err;
  log.error({ ingestId, err }, 'unexpected error while parsing');
  return new ParseError('parse_failed', err instanceof Error ? err.message : String(err));
}
