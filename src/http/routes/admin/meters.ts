import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clearDiscovery } from '../../../homeassistant/discovery.js';
import type { MeterLiveness } from '../../../liveness/meter-state.js';
import { HttpError } from '../../http-error.js';
import { ErrorBody } from '../../schemas.js';
import { iso, MeterId, PageQuery } from './common.js';
import type { AdminContext } from './context.js';

const KeyMissingView = Type.Object({
  meter_id: Type.String(),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  first_seen: Type.String({ format: 'date-time' }),
  last_seen: Type.String({ format: 'date-time' }),
  count: Type.Integer(),
  gateways: Type.Array(Type.String()),
});

const MeterView = Type.Object({
  meter_id: Type.String(),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('stale'), Type.Literal('key_problem')]),
  first_seen: Type.String({ format: 'date-time' }),
  last_seen: Type.String({ format: 'date-time' }),
  interval_s: Type.Union([Type.Number(), Type.Null()], { description: 'Learned send interval: median of the recent gaps; null until two transmissions were seen.' }),
  stale_at: Type.String({ format: 'date-time', description: 'When the meter counts as stale if nothing arrives.' }),
  gateways: Type.Array(Type.Object({ gateway_id: Type.String(), rssi_dbm: Type.Union([Type.Number(), Type.Null()]), at: Type.String({ format: 'date-time' }) })),
  last_error: Type.Union([Type.Object({ code: Type.String(), message: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
});

const Status = Type.Union([Type.Literal('key_missing'), Type.Literal('ok'), Type.Literal('stale'), Type.Literal('key_problem')], {
  description: '`ok`, `stale`, `key_problem`: liveness of every meter heard (omit for all). `key_missing`: meters seen with encrypted telegrams and no key (GET /v1/admin/key-problems has every reason).',
});

function meterView(m: MeterLiveness) {
  return {
    meter_id: m.meterId, manufacturer: m.manufacturer, status: m.status, first_seen: iso(m.firstSeen)!, last_seen: iso(m.lastSeen)!,
    interval_s: m.intervalMs === null ? null : Math.round(m.intervalMs / 1000), stale_at: iso(m.staleAt)!,
    gateways: m.gateways.map((g) => ({ gateway_id: g.gatewayId, rssi_dbm: g.rssiDbm, at: iso(g.at)! })),
    last_error: m.lastErrorCode === null ? null : { code: m.lastErrorCode, message: m.lastError },
  };
}

/** Meters: liveness (last seen, learned interval, gateways, last error) and the "keys needed" list. */
export const meterRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/meters', {
    schema: {
      summary: 'Meters by status',
      description: 'Liveness: a meter is `stale` when METER_STALE_INTERVALS learned intervals (at least METER_STALE_MIN_S) passed without a telegram, '
        + '`key_problem` when its last telegram failed to decrypt. `status=key_missing` lists meters seen encrypted without a key instead.',
      tags: ['admin: meters'],
      querystring: Type.Intersect([PageQuery, Type.Object({ status: Type.Optional(Status) })]),
      response: { 200: Type.Object({ items: Type.Array(Type.Union([MeterView, KeyMissingView])), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
    },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const cursor = req.query.cursor ?? null;
    if (req.query.status === 'key_missing') {
      // The key_missing part of GET /v1/admin/key-problems, in the shape this list always had.
      const page = await ctx.store.listKeyProblems('key_missing', limit, cursor);
      return {
        items: page.items.map((m) => ({
          meter_id: m.meterId, manufacturer: m.manufacturer, first_seen: iso(m.firstSeen)!, last_seen: iso(m.lastSeen)!, count: m.count, gateways: m.gateways,
        })),
        next_cursor: page.nextCursor,
      };
    }
    const page = await ctx.store.listMeters(req.query.status ?? null, limit, cursor);
    return { items: page.items.map(meterView), next_cursor: page.nextCursor };
  });

  app.get('/meters/:meter_id', {
    schema: { summary: 'One meter\'s liveness', tags: ['admin: meters'], params: Type.Object({ meter_id: MeterId }), response: { 200: MeterView, 404: ErrorBody } },
  }, async (req) => {
    const m = await ctx.store.getMeter(req.params.meter_id);
    if (!m) throw new HttpError('not_found', `meter ${req.params.meter_id} was never heard`);
    return meterView(m);
  });

  app.delete('/meters/:meter_id', {
    schema: {
      summary: 'Forget a meter',
      description: 'Deletes its liveness record and, with HA_DISCOVERY=true, clears its Home Assistant config (empty retained payload: HA removes the device). '
        + 'A meter that sends again is heard again.',
      tags: ['admin: meters'], params: Type.Object({ meter_id: MeterId }), response: { 204: Type.Null(), 404: ErrorBody },
    },
  }, async (req, reply) => {
    const id = req.params.meter_id;
    const m = await ctx.store.getMeter(id);
    if (!m || !(await ctx.store.deleteMeter(id))) throw new HttpError('not_found', `meter ${id} was never heard`);
    const now = Date.now();
    if (ctx.haDiscoveryPrefix !== undefined) {
      const clear = clearDiscovery(ctx.haDiscoveryPrefix, { id, manufacturer: m.manufacturer });
      await ctx.store.enqueueMessages([{ ingestId: null, kind: 'discovery', topic: clear.topic, payload: clear.payload, qos: 1, retain: true }], now);
      ctx.meterDeleted(id, m.manufacturer);
    }
    await ctx.store.insertAudit({ at: now, action: 'meter.delete', target: id, actor: req.adminActor ?? 'unknown', details: null });
    return reply.code(204).send(null);
  });
};
