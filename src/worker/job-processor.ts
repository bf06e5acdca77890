import { backoffDelayMs, type BackoffPolicy } from '../lib/backoff.js';
import type { HaDiscovery } from '../homeassistant/ha-discovery.js';
import { orderOf, type SeenResult, staleAfterMs, type StalePolicy } from '../liveness/meter-state.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { KeyResolver } from '../parser/key-resolver.js';
import { meterFromHeader, ParseError, type ParseResult, type Parser } from '../parser/parser.js';
import { errorPayload, readingPayload, type JobError } from '../publish/payloads.js';
import type { Topics } from '../publish/topics.js';
import type { MappingStore } from '../store/mapping-store.js';
import type { JobQueue, KeyProblems, MeterRegistry, TelegramQueries } from '../store/roles.js';
import type { FinishJob, Job, Reception } from '../store/store.js';
import { parseHeader, type TelegramHeader } from '../wmbus/index.js';

/** A parser slot: entered before the parser call, left once it answered. */
export interface ParseGate {
  /** False when the pool is stopping: the job goes back to the queue unrun. */
  enter(): Promise<boolean>;
  leave(): void;
}

export interface JobProcessorOptions {
  maxAttempts: number;
  /** Claims without an orderly outcome before the telegram is given up as `claim_limit` (JOB_MAX_CLAIMS). */
  maxClaims: number;
  backoff: BackoffPolicy;
  qos: 0 | 1 | 2;
  retainReadings: boolean;
  /** When a silent meter counts as stale; also HA's expire_after. Undefined: no liveness bookkeeping. */
  stalePolicy?: StalePolicy;
  /** DEDUP_SCOPE=global: payloads list the receptions, the reading goes to this topic (MERGE_TOPIC). Undefined: per-gateway readings. */
  mergeTopic?: 'gateway' | 'meter' | undefined;
}

/** A store or key-store failure: the job waits for the database, it is not the telegram's fault. */
class StoreFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('store failure');
  }
}

const STORE_RETRY_MS = 1_000;

/**
 * Runs one job: header → key → parser → final state + outgoing MQTT message
 * in one transaction. Parser failures become data (attempts, last_error,
 * next_attempt_at). Store failures re-queue the job without using an attempt
 * and never reach MQTT. Every outcome is fenced by the lease: a worker whose
 * lease was taken over writes nothing.
 */
export class JobProcessor {
  constructor(
    private readonly store: JobQueue & Pick<MeterRegistry, 'recordMeterSeen' | 'getMeter'> & Pick<KeyProblems, 'recordKeyProblem'> & Pick<TelegramQueries, 'listReceptions'>,
    private readonly keys: KeyResolver,
    private readonly parser: Parser,
    private readonly mappings: MappingStore,
    private readonly topics: Topics,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: JobProcessorOptions,
    /** Home Assistant discovery (HA_DISCOVERY=true). */
    private readonly ha?: HaDiscovery,
  ) {}

  /**
   * `gate` bounds the parser calls in flight (N_WORKERS): entered right before the parser, left when it has
   * answered or failed, so reading the key before and committing the outcome after do not hold a parser slot.
   */
  async process(job: Job, gate?: ParseGate): Promise<void> {
    const header = readHeader(job.rawHex);
    const attempt = job.attempts + 1;
    try {
      if (job.claims > this.opts.maxClaims) {
        const err = new ParseError('claim_limit', `the telegram was claimed ${job.claims - 1} times without an outcome; the process may have died while handling it`);
        return await this.fail(job, header, job.attempts, err);
      }
      const { keyHex, predecrypted } = await this.keys.resolve(job, header).catch(storeFailure);
      if (gate && !(await gate.enter())) return await this.putBack(job);
      let result: ParseResult;
      try {
        result = await this.parser.parse({
          ingestId: job.ingestId,
          rawHex: job.rawHex,
          keyHex,
          header,
          mappings: this.mappings.get(),
          finalAttempt: attempt >= this.opts.maxAttempts,
          predecrypted,
          rxTime: job.rxTime,
        });
      } finally {
        gate?.leave();
      }
      // A parser that cannot tell (Lobaro) decrypted with our key exactly when the header said encrypted and the body was not taken as plain.
      const authenticated = result.authenticated ?? (keyHex !== null && header?.encrypted === true && !predecrypted);
      const receptions = await this.receptions(job);
      const payload = withReceptions(readingPayload(job, result, authenticated), receptions);
      const text = JSON.stringify(payload);
      const meterId = job.meterId ?? result.meter.id;
      const live = await this.seen(job, meterId, result.meter.manufacturer, null, null);
      const ha = this.ha?.messagesFor(job, result.meter, result.parser, result.values, {
        expireAfterS: expireAfterS(live.intervalMs, this.opts.stalePolicy), latest: live.latest, first: live.first,
      });
      const done = await this.finish(job, {
        status: 'done', attempts: attempt, errorCode: null, lastError: null, parsedJson: text, now: Date.now(),
        messages: [{
          ingestId: job.ingestId, kind: 'reading', // The radio address (or the gateway's hint) keys the topic, so one device keeps one topic whichever parser ran.
          topic: this.readingTopic(job, meterId, receptions),
          // An older telegram arriving late (a gateway's backlog, a replay) is published but must not replace the retained
          // newest one: per gateway on the per-gateway topics (gateway clocks differ), per meter on merged readings.
          payload: text, qos: this.opts.qos, retain: this.opts.retainReadings && (this.opts.mergeTopic === undefined ? live.latestForGateway : live.latest),
        }, ...(ha?.messages ?? [])],
      });
      if (done) ha?.commit();
      if (done) this.events.emit('jobFinished', { ingestId: job.ingestId, status: 'done', attempts: attempt, payload });
    } catch (err) {
      if (err instanceof StoreFailure) return this.deferForStore(job, err.cause);
      await this.onFailure(job, header, attempt, toParseError(err, this.log, job.ingestId)).catch((e: unknown) => this.deferForStore(job, unwrap(e)));
    }
  }

  private async onFailure(job: Job, header: TelegramHeader | null, attempt: number, err: ParseError): Promise<void> {
    const now = Date.now();
    if (!err.consumesAttempt) {
      await this.retry(job, { attempts: job.attempts, nextAttemptAt: now + (err.retryAfterMs ?? 1_000), errorCode: err.code, lastError: err.message });
      return;
    }
    if (err.retryable && attempt < this.opts.maxAttempts) {
      const delayMs = backoffDelayMs(attempt, { retryAfterMs: err.retryAfterMs, policy: this.opts.backoff });
      if (await this.retry(job, { attempts: attempt, nextAttemptAt: now + delayMs, errorCode: err.code, lastError: err.message })) {
        this.events.emit('jobRetry', { ingestId: job.ingestId, attempt, delayMs, code: err.code });
        this.log.warn({ ingestId: job.ingestId, code: err.code, attempt, delayMs }, 'parse failed; will retry');
      }
      return;
    }
    await this.fail(job, header, attempt, err);
  }

  private async fail(job: Job, header: TelegramHeader | null, attempts: number, err: ParseError): Promise<void> {
    const error: JobError = { code: err.code, message: err.message, attempts };
    if (err.httpStatus !== undefined) error.http_status = err.httpStatus;
    if (err.reason !== undefined) error.reason = err.reason;
    const meter = meterFromHeader(header, job.meterId);
    const payload = withReceptions(errorPayload(job, meter, error), await this.receptions(job));
    const text = JSON.stringify(payload);
    await this.seen(job, meter.id, meter.manufacturer, err.code, err.message);
    await this.noteKeyProblem(job, meter.id, meter.manufacturer, err);
    const now = Date.now();
    const done = await this.finish(job, {
      status: 'error', attempts, errorCode: err.code, lastError: err.message, parsedJson: text, now,
      messages: [{ ingestId: job.ingestId, kind: 'error', topic: this.topics.error(job.gatewayId, job.ingestId), payload: text, qos: this.opts.qos, retain: false }],
    });
    if (!done) return;
    this.events.emit('jobFinished', { ingestId: job.ingestId, status: 'error', code: err.code, attempts, payload, message: err.message, meterId: meter.id });
    this.log.warn({ ingestId: job.ingestId, code: err.code, attempts }, 'telegram failed; error published');
  }

  /**
   * The admin "key problems" list. key_missing is noted by the key resolver, which sees every
   * keyless encrypted telegram (also the ones that never reach a parser); the other reasons only
   * a parser that decrypts can tell.
   */
  private async noteKeyProblem(job: Job, meterId: string | null, manufacturer: string | null, err: ParseError): Promise<void> {
    const p = err.keyProblem;
    if (!p || p.problem === 'key_missing' || meterId === null) return;
    await this.store.recordKeyProblem({ meterId, manufacturer, gatewayId: job.gatewayId, problem: p.problem, detail: p.detail, now: Date.now() }).catch(storeFailure);
  }

  /** DEDUP_SCOPE=global: every gateway that heard this transmission, strongest first; undefined otherwise. */
  private async receptions(job: Job): Promise<ReceptionView[] | undefined> {
    if (this.opts.mergeTopic === undefined) return undefined;
    const list = await this.store.listReceptions(job.ingestId).catch(storeFailure);
    return strongestFirst(list).map((r) => ({ gateway_id: r.gatewayId, rssi_dbm: r.rssiDbm, rx_time: r.rxTime, ingest_id: r.ingestId }));
  }

  private readingTopic(job: Job, meterId: string | null, receptions: ReceptionView[] | undefined): string {
    if (receptions === undefined) return this.topics.reading(job.gatewayId, meterId);
    if (this.opts.mergeTopic === 'meter') return this.topics.meterReading(meterId);
    return this.topics.reading(receptions[0]?.gateway_id ?? job.gatewayId, meterId);
  }

  /** The database failed under this job: back to the queue as it was, no attempt used, nothing published. */
  private async deferForStore(job: Job, cause: unknown): Promise<void> {
    const code = storeErrorCode(cause);
    this.log.warn({ ingestId: job.ingestId, code, err: cause }, 'store failed while handling the job; it is queued again');
    this.events.emit('jobDeferred', { ingestId: job.ingestId, code });
    // If this write fails too, the error reaches the pool and the lease expires: the job is claimed again later.
    await this.retry(job, { attempts: job.attempts, nextAttemptAt: Date.now() + STORE_RETRY_MS, errorCode: code, lastError: 'the database was not available; retrying' });
  }

  /**
   * Liveness: the meter was heard (whatever the parse outcome); the store writes a `meter_back` event with
   * it when the meter was stale. Replays are old telegrams and teach nothing: the meter's record only tells
   * whether the replayed one is still its newest (a key added, the failed telegrams replayed).
   * Without liveness or a meter id nothing tells the order, and every reading counts as the latest.
   */
  private async seen(job: Job, meterId: string | null, manufacturer: string | null, errorCode: string | null, error: string | null): Promise<Omit<SeenResult, 'back'>> {
    const policy = this.opts.stalePolicy;
    if (!policy || meterId === null) return { intervalMs: null, latest: true, latestForGateway: true, first: false };
    const rx = Date.parse(job.rxTime);
    // Never later than its acceptance: one telegram from a gateway whose clock says 2099 would keep the meter from
    // ever going stale, and its replay would count as the meter's newest.
    const at = Number.isFinite(rx) ? Math.min(rx, job.createdAt) : job.createdAt;
    if (job.replay) {
      const m = await this.store.getMeter(meterId).catch(storeFailure);
      return { intervalMs: m?.intervalMs ?? null, ...orderOf(m, at, job.gatewayId) };
    }
    const r = await this.store.recordMeterSeen({ meterId, manufacturer, gatewayId: job.gatewayId, rssiDbm: job.rssiDbm, at, errorCode, error, ingestId: job.ingestId }, policy).catch(storeFailure);
    if (r.back) this.log.info({ meterId, ingestId: job.ingestId }, 'stale meter is back');
    return r;
  }

  /** The pool stopped before this job got a parser slot: back to the queue as it was, nothing used up. */
  private async putBack(job: Job): Promise<void> {
    const back = { attempts: job.attempts, nextAttemptAt: Date.now(), errorCode: job.errorCode, lastError: job.lastError, unrun: true };
    // Not the telegram's fault either way: if the write fails, the lease expires and the job runs then.
    await this.retry(job, back).catch((err: unknown) => this.log.warn({ ingestId: job.ingestId, err }, 'could not put an unrun job back; it runs again after its lease'));
  }

  private async finish(job: Job, f: FinishJob): Promise<boolean> {
    const ok = await this.store.finishJob(job, f).catch(storeFailure);
    if (!ok) this.fenced(job, 'finish');
    return ok;
  }

  private async retry(job: Job, r: Parameters<JobQueue['retryJob']>[1]): Promise<boolean> {
    const ok = await this.store.retryJob(job, r);
    if (!ok) this.fenced(job, 'retry');
    return ok;
  }

  private fenced(job: Job, outcome: 'finish' | 'retry'): void {
    this.events.emit('jobFenced', { ingestId: job.ingestId, outcome });
    this.log.warn({ ingestId: job.ingestId, outcome, leaseSeq: job.leaseSeq }, 'lease was lost to another worker; outcome dropped');
  }
}

interface ReceptionView {
  gateway_id: string;
  rssi_dbm: number | null;
  rx_time: string;
  ingest_id: string;
}

/** Strongest RSSI first; receptions without RSSI last; ties by receive time, then ingest id, so every instance orders alike. */
export function strongestFirst(list: readonly Reception[]): Reception[] {
  return [...list].sort((a, b) => (b.rssiDbm ?? -Infinity) - (a.rssiDbm ?? -Infinity) || a.rxTime.localeCompare(b.rxTime) || a.ingestId.localeCompare(b.ingestId));
}

function withReceptions(payload: Record<string, unknown>, receptions: ReceptionView[] | undefined): Record<string, unknown> {
  return receptions === undefined ? payload : { ...payload, receptions };
}

/** HA's expire_after: the stale threshold, in whole quarter hours so a drifting median does not re-send configs. */
function expireAfterS(intervalMs: number | null, policy: StalePolicy | undefined): number | undefined {
  if (intervalMs === null || !policy) return undefined;
  return Math.ceil(staleAfterMs(intervalMs, policy) / 900_000) * 900;
}

function storeFailure(err: unknown): never {
  // Key-policy decisions are the parser's kind of failure; anything else from the store is infrastructure.
  if (err instanceof ParseError) throw err;
  throw new StoreFailure(err);
}

function unwrap(err: unknown): unknown {
  return err instanceof StoreFailure ? err.cause : err;
}

function storeErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'storage_full' || code === 'SQLITE_FULL' ? 'storage_full' : 'store_unavailable';
}

function readHeader(rawHex: string): TelegramHeader | null {
  try {
    return parseHeader(rawHex);
  } catch {
    return null;
  }
}

function toParseError(err: unknown, log: Logger, ingestId: string): ParseError {
  if (err instanceof ParseError) {
    if (err.cause !== undefined && err.message.startsWith('internal_error')) log.error({ ingestId, err: err.cause }, 'decoder failed on a telegram');
    return err;
  }
  log.error({ ingestId, err }, 'unexpected error while parsing');
  // Internal error text (paths, stack details) is for the log, not for MQTT consumers.
  return new ParseError('parse_failed', 'internal error while parsing (details in the bridge log)');
}
