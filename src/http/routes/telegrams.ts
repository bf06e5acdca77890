import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IngestService } from '../../ingest/ingest-service.js';
import type { RateLimiter } from '../../ingest/rate-limiter.js';
import type { ResultWaiter } from '../../ingest/result-waiter.js';
import type { GatewayAuth } from '../gateway-auth.js';
import { BridgeError } from '../../lib/errors.js';
import { HttpError } from '../http-error.js';
import { AcceptedBody, ErrorBody, TelegramBody } from '../schemas.js';
import { telegramProblems } from '../validate-telegram.js';
import { registerBatchRoute } from './telegram-batch.js';

export interface TelegramRoutesOptions {
  ingest: IngestService;
  auth: GatewayAuth;
  waiter: ResultWaiter;
  syncTimeoutMs: number;
  /** Seconds a gateway should wait after a 503. */
  retryAfterS: number;
  /** INGEST_RATE_LIMIT per gateway, when set. */
  rateLimiter?: RateLimiter | undefined;
  /** `?sync=true` is served (false in APP_ENV=prod unless ALLOW_SYNC=true). */
  allowSync: boolean;
  /** BATCH_MAX_BYTES: body limit of POST /v1/telegrams/batch. */
  batchMaxBytes: number;
  /** Counts of one batch answer, for metrics. */
  onBatch?: (counts: BatchCounts) => void;
}

export interface BatchCounts {
  gatewayId: string | undefined;
  accepted: number;
  duplicate: number;
  invalid: number;
  /** Items answered from an earlier upload with the same client_id. */
  repeated: number;
}

/** The database could not take the telegram: nothing was stored, the gateway should send it again later. */
function storeRefusal(err: unknown, retryAfterS: number): HttpError | undefined {
  if (!(err instanceof BridgeError) || !err.retryable) return undefined;
  const headers = { 'retry-after': String(retryAfterS) };
  if (err.code === 'storage_full') return new HttpError('storage_full', 'the database is full; nothing was stored, retry later', { headers });
  return new HttpError('store_unavailable', 'the database is busy or unavailable; nothing was stored, retry later', { headers });
}

declare module 'fastify' {
  interface FastifyRequest {
    gatewayScope?: string;
    /** The gateway id this request is proven to speak for; only this one may become a metric label or a map key. */
    authenticatedGateway?: string;
  }
}

/** POST /v1/telegrams — the gateway API. */
export const telegramRoutes: FastifyPluginAsyncTypebox<TelegramRoutesOptions> = async (app, opts) => {
  // Auth before the body is read: an unknown key costs no JSON parsing.
  app.addHook('onRequest', async (req) => {
    const scope = opts.auth.gatewayFor(req.headers.authorization);
    if (scope === undefined) {
      throw new HttpError('unauthorized', req.headers.authorization ? 'unknown gateway key' : 'missing Authorization: Bearer <gateway key>');
    }
    req.gatewayScope = scope;
    if (scope !== '*') req.authenticatedGateway = scope;
  });

  // Before validation, so malformed requests count against the limit too. The bucket is the key's
  // gateway; a global key is bucketed by the claimed id only when it is a well-formed one.
  app.addHook('preValidation', async (req) => {
    // A batch counts as one request of the key's gateway (or of '*' for a global key).
    if (!opts.rateLimiter || (req.routeOptions.url !== '/v1/telegrams' && req.routeOptions.url !== '/v1/telegrams/batch')) return;
    const waitS = opts.rateLimiter.take(rateBucket(req.gatewayScope ?? '*', req.body));
    if (waitS > 0) throw new HttpError('rate_limited', 'too many requests for this gateway_id', { headers: { 'retry-after': String(waitS) } });
  });

  registerBatchRoute(app, opts, (err) => storeRefusal(err, opts.retryAfterS));

  app.post('/v1/telegrams', {
    schema: {
      summary: 'Submit one wM-Bus/OMS telegram',
      description: 'Stores the telegram durably, then answers 202. The telegram ends on MQTT as a reading or an error, even across a crash. `?sync=true` waits for the result (debug).',
      tags: ['gateway'],
      security: [{ gatewayKey: [] }],
      querystring: Type.Object({ sync: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: wait (bounded) and answer 200 with the published payload. Debug only.' })) }),
      body: TelegramBody,
      response: {
        200: Type.Object({}, { additionalProperties: true, description: 'With ?sync=true: the payload that was published.' }),
        202: AcceptedBody,
        400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody, 503: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const body = req.body;
    const problems = telegramProblems(body);
    if (problems.length > 0) throw new HttpError('validation_failed', 'request body is invalid', { details: problems });
    if (req.gatewayScope !== '*' && req.gatewayScope !== body.gateway_id) {
      throw new HttpError('forbidden', 'this key may not post for this gateway_id');
    }
    req.authenticatedGateway = body.gateway_id;
    const wait = req.query.sync === 'true';
    if (wait && !opts.allowSync) throw new HttpError('sync_disabled', '?sync=true is disabled in production; set ALLOW_SYNC=true to allow it');
    const full = opts.ingest.full();
    if (full) {
      throw new HttpError('backpressure', `${full === 'queue' ? 'queue' : 'outbox'} is full; retry later`, {
        headers: { 'retry-after': String(opts.retryAfterS) },
      });
    }
    const result = await opts.ingest.accept({
      gatewayId: body.gateway_id,
      rxTime: body.rx_time,
      rssiDbm: body.rssi_dbm,
      mode: body.mode,
      rawHex: body.raw_hex,
      meterHint: body.meter_hint,
      keyHex: body.key_hex,
    }).catch((err: unknown) => {
      throw storeRefusal(err, opts.retryAfterS) ?? err;
    });
    if (wait) {
      // A merged reception's result is the one of the job that carries its transmission.
      const payload = await opts.waiter.wait(result.mergedInto ?? result.ingestId, opts.syncTimeoutMs);
      if (payload) return reply.code(200).send(payload);
    }
    return reply.code(202).send(result.duplicate
      ? { accepted: true, duplicate: true, ingest_id: result.ingestId }
      : { accepted: true, ingest_id: result.ingestId });
  });
};

const WELL_FORMED_ID = /^[A-Za-z0-9._-]{1,64}$/;

function rateBucket(scope: string, body: unknown): string {
  if (scope !== '*') return scope;
  const id = (body as { gateway_id?: unknown } | null)?.gateway_id;
  return typeof id === 'string' && WELL_FORMED_ID.test(id) ? id : '*';
}
