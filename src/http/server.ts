import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../observability/events.js';
import { registerDocsUi, registerOpenApi } from './docs.js';
import { HTTP_STATUS, type HttpCode } from '../lib/error-codes.js';
import { BridgeError } from '../lib/errors.js';
import { HttpError } from './http-error.js';
import { validatorCompiler } from './validators.js';
import { healthRoutes, type HealthRoutesOptions } from './routes/health.js';
import { telegramRoutes, type TelegramRoutesOptions } from './routes/telegrams.js';

export interface HttpServerOptions {
  log: Logger;
  events: EventBus;
  telegrams: TelegramRoutesOptions;
  health: HealthRoutesOptions;
  /** Extra route plugins (admin API, metrics, docs), registered after the core routes. */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
}

export const BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyReply {
    /** Stable error code of an error answer, for metrics. */
    errorCode?: string;
  }
}

/** Builds the Fastify app: one error shape for every error, no request logging on the hot path. */
export async function buildHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log.child({ stage: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler());

  // Fastify parses text/plain by default; the API speaks JSON only (415 otherwise).
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const http = toHttpError(err);
    if (http.statusCode >= 500 && http.statusCode !== 503) req.log.error({ err }, 'request failed');
    reply.errorCode = http.code;
    void reply.code(http.statusCode).headers(http.headers).send(http.body);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url !== '/v1/telegrams' || req.method !== 'POST') return;
    // Only a gateway id the request proved (key scope, or a valid body under a global key) becomes a
    // label: ids from rejected bodies would grow the metrics and the gateway view without bound.
    opts.events.emit('ingestResponse', {
      gatewayId: req.authenticatedGateway,
      status: reply.statusCode,
      ...(reply.errorCode ? { code: reply.errorCode } : {}),
      durationMs: reply.elapsedTime,
    });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });

  await registerOpenApi(app);
  await app.register(healthRoutes, opts.health);
  await app.register(telegramRoutes, opts.telegrams);
  for (const plugin of opts.plugins ?? []) await plugin(app);
  await registerDocsUi(app);
  return app;
}

/** Fastify's own error codes, in our vocabulary. */
const FASTIFY_CODES: Readonly<Record<string, HttpCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

const PUBLIC_MESSAGE: Partial<Record<HttpCode, string>> = {
  body_too_large: `body exceeds the limit (${BODY_LIMIT} bytes; BATCH_MAX_BYTES for /v1/telegrams/batch)`,
  unsupported_media_type: 'body must be application/json',
  invalid_json: 'body is not valid JSON',
  invalid_content_length: 'Content-Length does not match the body',
};

/** Seconds a client should wait after a 503 that carries no Retry-After of its own. */
const RETRY_AFTER_S = '5';

/**
 * Every error becomes an HttpError whose status comes from HTTP_STATUS. A 5xx
 * never carries internal text (database messages, stack details) to the client.
 */
export function toHttpError(err: FastifyError | BridgeError | Error): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof BridgeError) {
    const status = HTTP_STATUS[err.code];
    if (status < 500) return new HttpError(err.code, err.message);
    if (status === 503) return new HttpError(err.code, 'temporarily unavailable; retry later', { headers: { 'retry-after': RETRY_AFTER_S } });
    return new HttpError('internal_error', 'internal error');
  }
  const f = err as FastifyError;
  if (f.validation) {
    const details = f.validation.map((v) => ({
      field: (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.') || String(v.params?.missingProperty ?? ''),
      problem: v.message ?? 'invalid',
    }));
    return new HttpError('validation_failed', 'request is invalid', { details });
  }
  const mapped = f.code === undefined ? undefined : FASTIFY_CODES[f.code];
  if (mapped) return new HttpError(mapped, PUBLIC_MESSAGE[mapped] ?? mapped);
  if (err instanceof SyntaxError) return new HttpError('invalid_json', 'body is not valid JSON');
  const status = f.statusCode ?? 500;
  if (status >= 400 && status < 500) return new HttpError('bad_request', err.message);
  return new HttpError('internal_error', 'internal error');
}
