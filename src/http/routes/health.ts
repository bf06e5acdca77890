import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

export interface HealthSnapshot {
  /** ok: the database answers; writable: a write went through (a full disk answers reads). */
  database: { ok: boolean; writable: boolean; error?: string };
  mqtt: {
    connected: boolean;
    /** Reason of the current TLS failure (`unknown_ca`, `hostname_mismatch`, …); present only while one lasts. */
    tls_failure?: string | undefined;
    /** Present when MQTT_CERT_FILE is set. */
    client_cert?: { subject: string; expires_at: string; expires_in_s: number; expiring_soon: boolean } | undefined;
  };
  queue: { depth: number; max: number; in_flight: number };
  outbox: { depth: number; max: number };
  lobaro: { circuit: string; last_success_at: string | null } | null;
  parser: string;
  pipeline: { running: boolean; thread: boolean };
}

export interface HealthRoutesOptions {
  snapshot: () => Promise<HealthSnapshot>;
  /** True when the Authorization header carries the admin token: only then do answers include database error text. */
  isAdmin: (authorization: string | undefined) => boolean;
}

/** Database error text can name paths, hosts and users: shown to the admin only. */
function visible(s: HealthSnapshot, admin: boolean): HealthSnapshot {
  if (admin || s.database.error === undefined) return s;
  return { ...s, database: { ok: s.database.ok, writable: s.database.writable } };
}

const HealthBody = Type.Object({ status: Type.String() }, { additionalProperties: true });

/**
 * /healthz: liveness (the process works and its database answers).
 * /readyz: ready to accept (database writable, queue and outbox below their limits).
 * MQTT down is "degraded", not failing: the outbox holds messages meanwhile.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness and component state', tags: ['operations'], response: { 200: HealthBody, 503: HealthBody } },
  }, async (req, reply) => {
    const s = visible(await opts.snapshot(), opts.isAdmin(req.headers.authorization));
    const status = !s.database.ok ? 'failing' : s.mqtt.connected ? 'ok' : 'degraded';
    return reply.code(s.database.ok ? 200 : 503).send({ status, ...s });
  });

  app.get('/readyz', {
    schema: { summary: 'Readiness to accept telegrams', tags: ['operations'], response: { 200: HealthBody, 503: HealthBody } },
  }, async (req, reply) => {
    const s = visible(await opts.snapshot(), opts.isAdmin(req.headers.authorization));
    const ready = s.database.ok && s.database.writable && s.queue.depth < s.queue.max && s.outbox.depth < s.outbox.max;
    return reply.code(ready ? 200 : 503).send({ status: ready ? (s.mqtt.connected ? 'ready' : 'degraded') : 'not_ready', ...s });
  });
};
