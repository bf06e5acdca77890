import { bearer } from '../gateway-auth.js';
import { HttpError } from '../http-error.js';
/** GET /metrics in Prometheus text format; open unless METRICS_TOKEN is set. */
export function metricsPlugin(registry, token) {
    return async (app) => {
        app.get('/metrics', { schema: { summary: 'Prometheus metrics (oms_bridge_*)', tags: ['operations'], produces: ['text/plain'] } }, async (req, reply) => {
            if (token !== undefined && bearer(req.headers.authorization) !== token)
                throw new HttpError(401, 'unauthorized', 'missing or wrong Bearer METRICS_TOKEN');
            return reply.type(registry.contentType).send(await registry.metrics());
        });
    };
}
