import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Overview } from '../../../observability/overview.js';
import { iso } from './common.js';
import type { AdminContext } from './context.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const OverviewBody = Type.Object({
  at: Type.String({ format: 'date-time' }),
  ingest: Type.Object({
    last_minute: Type.Integer({ description: 'Telegrams this instance accepted in the last 60 s (single and batch uploads, MQTT ingress).' }),
    per_minute: Type.Array(Type.Object({
      at: Type.String({ format: 'date-time', description: 'Start of the minute.' }),
      accepted: Type.Integer(),
      done: Type.Integer({ description: 'Telegrams this instance\'s pipeline finished as readings.' }),
      error: Type.Integer({ description: 'Telegrams this instance\'s pipeline finished as errors.' }),
    }), { description: 'The last 60 minutes, oldest first; the last entry is the current, partial minute. Counted since this process started.' }),
  }),
  queue: Type.Object({ depth: Type.Integer({ description: 'Unfinished telegrams (queued + in flight).' }) }),
  outbox: Type.Object({
    depth: Type.Integer({ description: 'MQTT messages not yet acknowledged by the broker.' }),
    oldest_at: Nullable(Type.String({ format: 'date-time' })),
  }),
  parser: Type.String({ description: 'PARSER: lobaro, local or auto.' }),
  lobaro_circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open'), Type.Null()], { description: 'null without a Lobaro parser.' }),
  mqtt: Type.Object({ connected: Type.Boolean() }),
  pipeline: Type.Object({ running: Type.Boolean() }),
  meters: Type.Object({ ok: Type.Integer(), stale: Type.Integer(), key_problem: Type.Integer() }, { description: 'Meters by liveness status (at most 5 s old).' }),
  recent_errors: Type.Array(Type.Object({
    code: Type.String(),
    message: Nullable(Type.String()),
    meter_id: Nullable(Type.String()),
    ingest_id: Type.String(),
    at: Type.String({ format: 'date-time' }),
  }), { description: 'The last 20 telegrams this instance finished as errors, newest first.' }),
});
export type OverviewBody = Static<typeof OverviewBody>;

export function overviewBody(o: Overview): OverviewBody {
  return {
    at: iso(o.at)!,
    ingest: {
      last_minute: o.acceptedLastMinute,
      per_minute: o.perMinute.map((m) => ({ at: iso(m.at)!, accepted: m.accepted, done: m.done, error: m.error })),
    },
    queue: { depth: o.depths.queue },
    outbox: { depth: o.depths.outbox, oldest_at: iso(o.depths.oldestOutboxAt) },
    parser: o.parser,
    lobaro_circuit: o.circuit,
    mqtt: { connected: o.mqttConnected },
    pipeline: { running: o.pipelineRunning },
    meters: { ok: o.meters.ok, stale: o.meters.stale, key_problem: o.meters.key_problem },
    recent_errors: o.recentErrors.map((e) => ({ code: e.code, message: e.message, meter_id: e.meterId, ingest_id: e.ingestId, at: iso(e.at)! })),
  };
}

/** Seconds between two events of the overview stream. */
export const STREAM_INTERVAL_S = 5;

/** The console's first page: rates, depths, parser and broker state, meter counts, recent errors. */
export const overviewRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/overview', {
    schema: {
      summary: 'Bridge overview for the console',
      description: 'Cheap to call every few seconds: rates and errors come from in-memory counters of this instance, depths from the ingest side\'s background refresh.',
      tags: ['admin: operations'],
      response: { 200: OverviewBody },
    },
  }, async () => overviewBody(await ctx.overview.snapshot()));

  const open = new Set<() => void>();
  // SSE responses never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });

  app.get('/overview/stream', {
    schema: {
      summary: 'Bridge overview as Server-Sent Events',
      description: `The GET /v1/admin/overview body as an \`overview\` event now and every ${STREAM_INTERVAL_S} s (text/event-stream). `
        + 'Needs the Authorization header like every admin call: read it with fetch() and a stream reader (EventSource cannot send headers).',
      tags: ['admin: operations'],
      produces: ['text/event-stream'],
      response: { 200: Type.String({ description: 'event: overview\\ndata: <overview JSON>\\n\\n, repeated.' }) },
    },
  }, async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      open.delete(end);
      res.end();
    };
    const send = async (): Promise<void> => {
      try {
        const body = overviewBody(await ctx.overview.snapshot());
        if (ended) return;
        res.write(`event: overview\ndata: ${JSON.stringify(body)}\n\n`);
      } catch (err) {
        req.log.warn({ err }, 'overview stream: snapshot failed');
        if (!ended) res.write('event: error\ndata: {"code":"overview_failed"}\n\n');
      }
      if (!ended) timer = setTimeout(() => void send(), STREAM_INTERVAL_S * 1_000);
    };
    open.add(end);
    req.raw.on('close', end);
    await send();
  });
};
