import Fastify, { LogController } from 'fastify';
import { registerDocsUi, registerOpenApi } from './docs.js';
import { BridgeError } from '../lib/errors.js';
import { HttpError } from './http-error.js';
import { validatorCompiler } from './validators.js';
import { healthRoutes } from './routes/health.js';
import { telegramRoutes } from './routes/telegrams.js';
export const BODY_LIMIT = 64 * 1024;
/** Builds the Fastify app: one error shape for every error, no request logging on the hot path. */
export async function buildHttpServer(opts) {
    const app = Fastify({
        loggerInstance: opts.log.child({ stage: 'http' }),
        logController: new LogController({ disableRequestLogging: true }),
        bodyLimit: BODY_LIMIT,
        return503OnClosing: true,
        forceCloseConnections: 'idle',
    });
    app.setValidatorCompiler(validatorCompiler());
    // Fastify parses text/plain by default; the API speaks JSON only (415 otherwise).
    app.removeContentTypeParser('text/plain');
    app.setErrorHandler((err, req, reply) => {
        const http = toHttpError(err);
        if (http.statusCode >= 500 && http.statusCode !== 503)
            req.log.error({ err }, 'request failed');
        reply.errorCode = http.code;
        void reply.code(http.statusCode).headers(http.headers).send(http.body);
    });
    app.addHook('onResponse', async (req, reply) => {
        if (req.routeOptions.url !== '/v1/telegrams' || req.method !== 'POST')
            return;
        const body = req.body;
        opts.events.emit('ingestResponse', {
            gatewayId: typeof body?.gateway_id === 'string' ? body.gateway_id : undefined,
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
    for (const plugin of opts.plugins ?? [])
        await plugin(app);
    await registerDocsUi(app);
    return app;
}
function toHttpError(err) {
    if (err instanceof HttpError)
        return err;
    if (err instanceof BridgeError && err.code === 'invalid_cursor')
        return new HttpError(400, 'invalid_cursor', 'cursor is not one this server gave out');
    if (err.validation) {
        const details = err.validation.map((v) => ({
            field: (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.') || String(v.params?.missingProperty ?? ''),
            problem: v.message ?? 'invalid',
        }));
        return new HttpError(400, 'validation_failed', 'request is invalid', details);
    }
    switch (err.code) {
        case 'FST_ERR_CTP_BODY_TOO_LARGE':
            return new HttpError(413, 'body_too_large', `body exceeds ${BODY_LIMIT} bytes`);
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
            return new HttpError(415, 'unsupported_media_type', 'body must be application/json');
        case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        case 'FST_ERR_CTP_INVALID_JSON_BODY':
            return new HttpError(400, 'invalid_json', 'body is not valid JSON');
        case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
            return new HttpError(400, 'invalid_content_length', 'Content-Length does not match the body');
    }
    if (err instanceof SyntaxError)
        return new HttpError(400, 'invalid_json', 'body is not valid JSON');
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500)
        return new HttpError(status, 'bad_request', err.message);
    return new HttpError(500, 'internal_error', 'internal error');
}
