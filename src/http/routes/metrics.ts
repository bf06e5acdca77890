import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { bearer, sameSecret } from '../gateway-auth.js';
import { HttpError } from '../http-error.js';

/** GET /metrics in Prometheus text format; open unless METRICS_TOKEN is set. */
export function metricsPlugin(registry: Registry, token: string | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/metrics', { schema: { summary: 'Prometheus metrics (oms_bridge_*)', tags: ['operations'], produces: ['text/plain'] } }, async (req, reply) => {
      if (token !== undefined && !sameSecret(bearer(req.headers.authorization), token)) throw new HttpError('unauthorized', 'missing or wrong Bearer METRICS_TOKEN');
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
