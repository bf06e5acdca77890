import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { TelegramFilter, TelegramRecord } from '../../../store/store.js';
import { parseHeader } from '../../../wmbus/index.js';
import { HttpError } from '../../http-error.js';
import { ErrorBody } from '../../schemas.js';
import { iso, PagedBody, pageOf, PageQuery, parseTime } from './common.js';
import type { AdminContext } from './context.js';

const Filter = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('processing'), Type.Literal('done'), Type.Literal('error'), Type.Literal('merged')])),
  // Patterns keep control characters (and PostgreSQL's NUL error) out of every query.
  error_code: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,64}$' })),
  meter_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  gateway_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  since: Type.Optional(Type.String({ description: 'RFC 3339; telegrams accepted at or after.' })),
  until: Type.Optional(Type.String({ description: 'RFC 3339; telegrams accepted before.' })),
});
type Filter = Static<typeof Filter>;

const TelegramView = Type.Object({
  ingest_id: Type.String(),
  gateway_id: Type.String(),
  meter_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  attempts: Type.Integer(),
  error_code: Type.Union([Type.String(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  rx_time: Type.String(),
  accepted_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  published_at: Type.Union([Type.String(), Type.Null()]),
  result: Type.Unknown({ description: 'The published payload (reading or error), null while unfinished.' }),
  merged_into: Type.Union([Type.String(), Type.Null()], { description: 'Status merged (DEDUP_SCOPE=global): the ingest_id of the job that carries this reception; its result lists every reception.' }),
  raw_hex: Type.String({ description: 'The telegram as received (lower-case hex).' }),
});

function toFilter(f: Filter): TelegramFilter {
  const out: TelegramFilter = {};
  if (f.status) out.status = f.status;
  if (f.error_code) out.errorCode = f.error_code;
  if (f.meter_id) out.meterId = f.meter_id;
  if (f.gateway_id) out.gatewayId = f.gateway_id;
  const since = parseTime('since', f.since);
  const until = parseTime('until', f.until);
  if (since !== undefined) out.since = since;
  if (until !== undefined) out.until = until;
  return out;
}

const view = (t: TelegramRecord) => ({
  ingest_id: t.ingestId, gateway_id: t.gatewayId, meter_id: t.meterId, status: t.status, attempts: t.attempts,
  error_code: t.errorCode, last_error: t.lastError, rx_time: t.rxTime, accepted_at: iso(t.createdAt)!,
  finished_at: iso(t.finishedAt), published_at: iso(t.publishedAt), result: t.parsed ?? null, merged_into: t.mergedInto, raw_hex: t.rawHex,
});

/** Look into processing and re-run telegrams (e.g. all decrypt_key_missing of a meter after its key was added). */
export const telegramAdminRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/telegrams/:ingest_id', {
    schema: { summary: 'One telegram: status, attempts, last error, result, publish time', tags: ['admin: telegrams'], params: Type.Object({ ingest_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }), response: { 200: TelegramView, 404: ErrorBody } },
  }, async (req) => {
    const t = await ctx.store.getTelegram(req.params.ingest_id);
    if (!t) throw new HttpError('not_found', `no telegram ${req.params.ingest_id}`);
    return view(t);
  });

  app.get('/telegrams', {
    schema: { summary: 'Telegrams by filter, newest first (paged)', tags: ['admin: telegrams'], querystring: Type.Intersect([PageQuery, Filter]), response: { 200: PagedBody(TelegramView) } },
  }, async (req) => {
    const page = await ctx.store.listTelegrams(toFilter(req.query), req.query.limit ?? 100, req.query.cursor ?? null);
    return pageOf(page.items.map(view), page.nextCursor);
  });

  app.post('/telegrams::replay', {
    schema: {
      summary: 'Re-queue finished telegrams matching a filter',
      description: 'At least one filter field. Re-queues at most REPLAY_MAX (and what QUEUE_MAX still admits), oldest first; '
        + '`remaining` says how many matching telegrams are left (call again). Results are published again with the same ingest_id and "replay": true. '
        + '`undecryptable` counts re-queued encrypted telegrams that have no key any more (the key sent with them was deleted when they finished and the key store has none): they will end as decrypt_key_missing unless a key is stored first.',
      tags: ['admin: telegrams'], body: Filter, response: { 200: ReplayBody, 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    const filter = toFilter(req.body);
    if (Object.keys(filter).length === 0) throw new HttpError('validation_failed', 'give at least one filter field', { details: [{ field: 'body', problem: 'empty filter would replay everything' }] });
    const room = await ctx.queueRoom();
    if (room <= 0) throw new HttpError('backpressure', 'queue is full (QUEUE_MAX); replay later', { headers: { 'retry-after': '5' } });
    const limit = Math.min(ctx.replayMax, room);
    const result = await ctx.store.replayTelegrams(filter, Date.now(), limit);
    const undecryptable = result.keyless.filter((k) => needsKey(k.rawHex)).map((k) => k.ingestId);
    await ctx.store.insertAudit({
      at: Date.now(), action: 'telegrams.replay', target: null, actor: req.adminActor ?? 'unknown',
      details: { filter: req.body, replayed: result.replayed, remaining: result.remaining, undecryptable: undecryptable.length },
    });
    if (result.replayed > 0) ctx.wakeWorkers();
    return {
      replayed: result.replayed, remaining: result.remaining, limit,
      undecryptable: undecryptable.length, undecryptable_ingest_ids: undecryptable.slice(0, UNDECRYPTABLE_LISTED),
    };
  });
};

const UNDECRYPTABLE_LISTED = 100;

const ReplayBody = Type.Object({
  replayed: Type.Integer({ description: 'Telegrams re-queued by this request.' }),
  remaining: Type.Integer({ description: 'Matching finished telegrams left; replay again to continue.' }),
  limit: Type.Integer({ description: 'The most this request could re-queue: REPLAY_MAX, or less when the queue is nearly full.' }),
  undecryptable: Type.Integer({ description: 'Re-queued encrypted telegrams without any key now; they end as decrypt_key_missing.' }),
  undecryptable_ingest_ids: Type.Array(Type.String(), { description: `The first ${UNDECRYPTABLE_LISTED} of them.` }),
});

function needsKey(rawHex: string): boolean {
  try {
    return parseHeader(rawHex).needsKey;
  } catch {
    return false;
  }
}
