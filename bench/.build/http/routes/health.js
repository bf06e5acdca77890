import { Type } from '@sinclair/typebox';
const HealthBody = Type.Object({ status: Type.String() }, { additionalProperties: true });
/**
 * /healthz: liveness (the process works and its database answers).
 * /readyz: ready to accept (database writable, queue and outbox below their limits).
 * MQTT down is "degraded", not failing: the outbox holds messages meanwhile.
 */
export const healthRoutes = async (app, opts) => {
    app.get('/healthz', {
        schema: { summary: 'Liveness and component state', tags: ['operations'], response: { 200: HealthBody, 503: HealthBody } },
    }, async (_req, reply) => {
        const s = await opts.snapshot();
        const status = !s.database.ok ? 'failing' : s.mqtt.connected ? 'ok' : 'degraded';
        return reply.code(s.database.ok ? 200 : 503).send({ status, ...s });
    });
    app.get('/readyz', {
        schema: { summary: 'Readiness to accept telegrams', tags: ['operations'], response: { 200: HealthBody, 503: HealthBody } },
    }, async (_req, reply) => {
        const s = await opts.snapshot();
        const ready = s.database.ok && s.queue.depth < s.queue.max && s.outbox.depth < s.outbox.max;
        return reply.code(ready ? 200 : 503).send({ status: ready ? (s.mqtt.connected ? 'ready' : 'degraded') : 'not_ready', ...s });
    });
};
