import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { clearDiscovery } from '../../../homeassistant/discovery.js';
import type { MeterLiveness } from '../../../liveness/meter-state.js';
import type { MeterReading } from '../../../store/store.js';
import { deviceTypeName } from '../../../wmbus/device-types.js';
import { HttpError } from '../../http-error.js';
import { ErrorBody } from '../../schemas.js';
import { iso, MeterId, PageQuery, parseTime } from './common.js';
import type { AdminContext } from './context.js';

export const ReadingValue = Type.Object({
  name: Type.String(),
  value: Type.Union([Type.Number(), Type.String(), Type.Null()]),
  unit: Type.String(),
  date: Type.Optional(Type.String()),
  storage: Type.Optional(Type.Integer()),
  tariff: Type.Optional(Type.Integer()),
  subunit: Type.Optional(Type.Integer()),
});
type ReadingValue = Static<typeof ReadingValue>;

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
  device_type: Type.Union([Type.Integer(), Type.Null()], { description: 'OMS device type of the last reading (e.g. 7 = water); null without a reading.' }),
  type: Type.Union([Type.String(), Type.Null()], { description: 'Its name, e.g. "water".' }),
  parser: Type.Union([Type.String(), Type.Null()], { description: 'Parser of the last reading: local or lobaro.' }),
  driver: Type.Union([Type.String(), Type.Null()], { description: 'With parser=local: the driver that decoded the last reading ("oms" = standard OMS decoding).' }),
  last_reading: Type.Union([Type.Object({
    at: Type.String({ format: 'date-time', description: 'When the telegram was accepted.' }),
    ingest_id: Type.String(),
    values: Type.Array(ReadingValue),
  }), Type.Null()], { description: 'The newest telegram of this meter that became a reading (stored telegrams only: RETENTION_DAYS).' }),
});

const Status = Type.Union([Type.Literal('key_missing'), Type.Literal('ok'), Type.Literal('stale'), Type.Literal('key_problem')], {
  description: '`ok`, `stale`, `key_problem`: liveness of every meter heard (omit for all). `key_missing`: meters seen with encrypted telegrams and no key (GET /v1/admin/key-problems has every reason).',
});

/** What the console shows of a stored reading payload (schemas/reading.schema.json); tolerant of older payloads. */
export function readingOf(r: MeterReading) {
  const p = (r.parsed ?? {}) as { meter?: { device_type?: unknown }; parser?: unknown; driver?: unknown; values?: unknown };
  const deviceType = typeof p.meter?.device_type === 'number' ? p.meter.device_type : null;
  return {
    deviceType,
    parser: typeof p.parser === 'string' ? p.parser : null,
    driver: typeof p.driver === 'string' ? p.driver : null,
    values: Array.isArray(p.values) ? (p.values as unknown[]).filter(isValue) : [],
  };
}

function isValue(v: unknown): v is ReadingValue {
  const x = v as Partial<ReadingValue> | null;
  return typeof x === 'object' && x !== null && typeof x.name === 'string' && typeof x.unit === 'string';
}

function meterView(m: MeterLiveness, reading: MeterReading | undefined) {
  const r = reading ? readingOf(reading) : undefined;
  const deviceType = r?.deviceType ?? null;
  return {
    meter_id: m.meterId, manufacturer: m.manufacturer, status: m.status, first_seen: iso(m.firstSeen)!, last_seen: iso(m.lastSeen)!,
    interval_s: m.intervalMs === null ? null : Math.round(m.intervalMs / 1000), stale_at: iso(m.staleAt)!,
    gateways: m.gateways.map((g) => ({ gateway_id: g.gatewayId, rssi_dbm: g.rssiDbm, at: iso(g.at)! })),
    last_error: m.lastErrorCode === null ? null : { code: m.lastErrorCode, message: m.lastError },
    device_type: deviceType,
    type: deviceType === null ? null : deviceTypeName(deviceType),
    parser: r?.parser ?? null,
    driver: r?.driver ?? null,
    last_reading: reading && r ? { at: iso(reading.at)!, ingest_id: reading.ingestId, values: r.values } : null,
  };
}

/** Meters: liveness (last seen, learned interval, gateways, last error) and the "keys needed" list. */
export const meterRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/meters', {
    schema: {
      summary: 'Meters by status',
      description: 'Liveness: a meter is `stale` when METER_STALE_INTERVALS learned intervals (at least METER_STALE_MIN_S) passed without a telegram, '
        + '`key_problem` when its last telegram failed to decrypt. `status=key_missing` lists meters seen encrypted without a key instead. '
        + '`q` keeps meters whose id starts with it. Each meter carries its last reading (type, driver, values) when a stored telegram of it became one.',
      tags: ['admin: meters'],
      querystring: Type.Intersect([PageQuery, Type.Object({
        status: Type.Optional(Status),
        q: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Meter id prefix (case-sensitive). Not with status=key_missing.' })),
      })]),
      response: { 200: Type.Object({ items: Type.Array(Type.Union([MeterView, KeyMissingView])), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
    },
  }, async (req) => {
    const limit = req.query.limit ?? 100;
    const cursor = req.query.cursor ?? null;
    if (req.query.status === 'key_missing') {
      if (req.query.q !== undefined) throw new HttpError('validation_failed', 'request is invalid', { details: [{ field: 'q', problem: 'not supported with status=key_missing' }] });
      // The key_missing part of GET /v1/admin/key-problems, in the shape this list always had.
      const page = await ctx.store.listKeyProblems('key_missing', limit, cursor);
      return {
        items: page.items.map((m) => ({
          meter_id: m.meterId, manufacturer: m.manufacturer, first_seen: iso(m.firstSeen)!, last_seen: iso(m.lastSeen)!, count: m.count, gateways: m.gateways,
        })),
        next_cursor: page.nextCursor,
      };
    }
    const page = await ctx.store.listMeters(req.query.status ?? null, limit, cursor, req.query.q);
    const readings = new Map((await ctx.store.latestReadings(page.items.map((m) => m.meterId))).map((r) => [r.meterId, r]));
    return { items: page.items.map((m) => meterView(m, readings.get(m.meterId))), next_cursor: page.nextCursor };
  });

  app.get('/meters/:meter_id', {
    schema: { summary: 'One meter\'s liveness', tags: ['admin: meters'], params: Type.Object({ meter_id: MeterId }), response: { 200: MeterView, 404: ErrorBody } },
  }, async (req) => {
    const m = await ctx.store.getMeter(req.params.meter_id);
    if (!m) throw new HttpError('not_found', `meter ${req.params.meter_id} was never heard`);
    const [reading] = await ctx.store.latestReadings([m.meterId]);
    return meterView(m, reading);
  });

  app.get('/meters/:meter_id/readings', {
    schema: {
      summary: 'One meter\'s readings over time',
      description: 'The values of every stored telegram of the meter that became a reading, accepted in [since, until): the newest `limit` of them, '
        + 'oldest first (ready for a chart). Stored telegrams only, so at most RETENTION_DAYS back. `truncated` says older ones in the window were left out.',
      tags: ['admin: meters'],
      params: Type.Object({ meter_id: MeterId }),
      querystring: Type.Object({
        since: Type.Optional(Type.String({ description: 'RFC 3339; readings accepted at or after.' })),
        until: Type.Optional(Type.String({ description: 'RFC 3339; readings accepted before.' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000, description: 'Most readings returned, 1–10000 (default 1000).' })),
      }),
      response: {
        200: Type.Object({
          meter_id: Type.String(),
          items: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), ingest_id: Type.String(), values: Type.Array(ReadingValue) })),
          truncated: Type.Boolean(),
        }),
        400: ErrorBody,
      },
    },
  }, async (req) => {
    const limit = req.query.limit ?? 1_000;
    const rows = await ctx.store.listReadings(req.params.meter_id, parseTime('since', req.query.since) ?? null, parseTime('until', req.query.until) ?? null, limit + 1);
    const items = rows.slice(0, limit).reverse().map((r) => ({ at: iso(r.at)!, ingest_id: r.ingestId, values: readingOf(r).values }));
    return { meter_id: req.params.meter_id, items, truncated: rows.length > limit };
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
