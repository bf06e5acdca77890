import type { EventBus } from '../../observability/events.js';
import type { Logger } from '../../observability/logger.js';
import { toValues, type WmbusRecord, type WmbusResult } from '../../wmbus/index.js';
import { valuesFromDomainModel } from '../domain-values.js';
import { meterFromHeader, ParseError, type ParseRequest, type ParseResult, type Parser } from '../parser.js';
import type { AdaptiveRateLimiter, RateTicket } from './adaptive-rate-limiter.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { LobaroClient } from './lobaro-client.js';

/** Parser backed by the Lobaro cloud: rate pacing, circuit breaker and 429 pause around the HTTP client. */
export class LobaroParser implements Parser {
  readonly name = 'lobaro';
  lastSuccessAt: number | null = null;

  constructor(
    private readonly client: LobaroClient,
    private readonly breaker: CircuitBreaker,
    private readonly limiter: AdaptiveRateLimiter,
    private readonly api: 'meterData' | 'mbus',
    private readonly events: EventBus,
    private readonly log: Logger,
    /** Pause after a 429 that carries no Retry-After. */
    private readonly defaultRateLimitPauseMs: number,
  ) {}

  async parse(req: ParseRequest): Promise<ParseResult> {
    const ticket = await this.limiter.acquire();
    this.breaker.beforeCall();
    const started = performance.now();
    let body: unknown;
    try {
      const res = await this.client.call(req.rawHex, req.keyHex, req.mappings);
      this.events.emit('lobaroRequest', { status: res.status, durationMs: res.durationMs });
      body = res.body;
    } catch (err) {
      this.onFailure(err, ticket, performance.now() - started);
      throw err;
    }
    this.limiter.onAccepted();
    this.breaker.onSuccess();
    this.lastSuccessAt = Date.now();
    return this.api === 'meterData' ? fromDomainModel(body, req) : fromWmbusJson(body, req);
  }

  private onFailure(err: unknown, ticket: RateTicket, durationMs: number): void {
    if (!(err instanceof ParseError)) {
      this.breaker.onOtherFailure();
      return;
    }
    this.events.emit('lobaroRequest', {
      status: err.httpStatus ?? (err.code === 'lobaro_timeout' ? 'timeout' : 'network'),
      durationMs,
    });
    if (err.code === 'lobaro_auth') {
      if (this.breaker.onAuthFailure()) {
        this.log.error({ code: 'lobaro_auth', httpStatus: err.httpStatus }, 'Lobaro rejected the token; parser calls paused, jobs stay queued');
      }
      return;
    }
    this.breaker.onOtherFailure();
    if (!isThrottle(err)) return;
    // Some calls still get through: pacing slower is the answer. None do: the
    // parser is saturated or down, so every call waits out its Retry-After.
    const outcome = this.limiter.onRejected(ticket);
    if (outcome === 'stalled') this.breaker.pause(err.retryAfterMs ?? this.defaultRateLimitPauseMs);
    else if (outcome === 'slowed') this.log.debug({ allowedRate: this.limiter.allowedRate, httpStatus: err.httpStatus }, 'Lobaro rejected a call; allowed rate cut');
  }
}

/** 429, or 503 with Retry-After: "too many for now", which the rate limiter answers. */
function isThrottle(err: ParseError): boolean {
  return err.httpStatus === 429 || (err.httpStatus === 503 && err.retryAfterMs !== undefined);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Metering Domain Model (lobaro-api.md §3.3) → meter + values; the model itself goes out unchanged. */
export function fromDomainModel(body: unknown, req: ParseRequest): ParseResult {
  if (!isObject(body)) throw new ParseError('parse_failed', 'Lobaro returned no Metering Domain Model for this telegram');
  const fallback = meterFromHeader(req.header, null);
  return {
    parser: 'lobaro',
    meter: {
      id: typeof body.meterId === 'string' && body.meterId !== '' ? body.meterId : fallback.id,
      manufacturer: typeof body.manufacturer === 'string' ? body.manufacturer : fallback.manufacturer,
      device_type: typeof body.meterType === 'number' ? body.meterType : fallback.device_type,
      version: typeof body.version === 'number' ? body.version : fallback.version,
    },
    values: valuesFromDomainModel(body),
    extra: { lobaro: { metering_domain_model: body } },
  };
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/**
 * Lobaro's records in the shape the decoder's value mapping expects. Its JSON is not ours to trust: a
 * `null` list (an empty one, as a Go backend writes it), a `null` record or a field of another type
 * must not turn a valid telegram into parse_failed. A record without a numeric value is left out.
 */
function lobaroRecords(raw: unknown): WmbusRecord[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((r) => ({
    DifDataLength: int(r.DifDataLength, 1), DifFunctionString: text(r.DifFunctionString), DifDataFormat: text(r.DifDataFormat),
    DifSubunit: int(r.DifSubunit, 0), VifUnit: text(r.VifUnit), VifQuantity: text(r.VifQuantity), VifExponent: int(r.VifExponent, 1),
    VifEDescription: text(r.VifEDescription), Value: int(r.Value, 0), ValueScaled: int(r.ValueScaled, 0), ValueString: text(r.ValueString),
    Tariff: int(r.Tariff, 0), StorageNo: int(r.StorageNo, 0), DifVif: text(r.DifVif), Data: text(r.Data),
    ...(r.ValueInvalid === true || typeof r.ValueScaled !== 'number' ? { ValueInvalid: true } : {}),
  }));
}

/** Lobaro wMbus JSON (lobaro-api.md §2, LOBARO_API=mbus) → meter + values. */
export function fromWmbusJson(body: unknown, req: ParseRequest): ParseResult {
  if (!isObject(body) || !isObject(body.Body)) throw new ParseError('parse_failed', 'Lobaro returned no wMbus JSON for this telegram');
  const b = body.Body as Record<string, unknown>;
  if (b.DecryptionFailed === true || body.DecryptionFailed === true) {
    throw new ParseError('decrypt_failed', 'Lobaro could not decrypt the telegram (wrong or missing key)');
  }
  const fallback = meterFromHeader(req.header, null);
  const device = typeof body.Device === 'string' ? Number.parseInt(body.Device, 16) : Number.NaN;
  return {
    parser: 'lobaro',
    meter: {
      id: typeof body.IdString === 'string' && body.IdString !== '' ? body.IdString : fallback.id,
      manufacturer: typeof body.MFieldCodeString === 'string' ? body.MFieldCodeString : fallback.manufacturer,
      device_type: Number.isNaN(device) ? fallback.device_type : device,
      version: typeof body.Version === 'number' ? body.Version : fallback.version,
    },
    values: toValues({ ...body, Body: { ...b, DataRecords: lobaroRecords(b.DataRecords) } } as unknown as WmbusResult),
    extra: { lobaro: { wmbus: body } },
  };
}
