import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { KeyProblemMeter } from '../../../store/store.js';
import { iso, PageQuery } from './common.js';
import type { AdminContext } from './context.js';

const Problem = Type.Union([Type.Literal('key_missing'), Type.Literal('wrong_key'), Type.Literal('truncated'), Type.Literal('unsupported_mode')], {
  description: '`key_missing`: no AES key is configured (ask the vendor). `wrong_key`: a key is configured, the telegram does not check with it '
    + '(typo, swapped key). `truncated`: the encrypted payload is shorter than announced (the gateway cut it). `unsupported_mode`: the security mode is not implemented.',
});

const KeyProblemView = Type.Object({
  meter_id: Type.String(),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  problem: Problem,
  detail: Type.Union([Type.String(), Type.Null()], { description: 'One sentence on the latest failure; never key material.' }),
  count: Type.Integer({ description: 'Failures of this kind since first_seen (restarts when the kind changes).' }),
  first_seen: Type.String({ format: 'date-time' }),
  last_seen: Type.String({ format: 'date-time' }),
  gateways: Type.Array(Type.String(), { description: 'Gateways that heard the meter, the first 16.' }),
});

/** The view of one entry, shared with `/meters?status=key_missing` (which shows the older subset of fields). */
export function keyProblemView(m: KeyProblemMeter) {
  return {
    meter_id: m.meterId, manufacturer: m.manufacturer, problem: m.problem, detail: m.detail, count: m.count,
    first_seen: iso(m.firstSeen)!, last_seen: iso(m.lastSeen)!, gateways: m.gateways,
  };
}

/** Meters whose telegrams do not decrypt, and why (issue 11): the operator's "what do I fix" list. */
export const keyProblemRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/key-problems', {
    schema: {
      summary: 'Meters whose telegrams do not decrypt, and why',
      description: 'One entry per meter with its latest problem, newest last_seen first. An entry leaves the list when a key is stored for the meter '
        + '(PUT /v1/admin/keys/{meter_id} or the key import); a telegram that still fails afterwards puts it back with the new reason. '
        + 'Entries unseen for KEY_MISSING_MAX_AGE_DAYS, and the oldest beyond KEY_MISSING_MAX, are pruned.',
      tags: ['admin: meters'],
      querystring: Type.Intersect([PageQuery, Type.Object({ problem: Type.Optional(Problem) })]),
      response: { 200: Type.Object({ items: Type.Array(KeyProblemView), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
    },
  }, async (req) => {
    const page = await ctx.store.listKeyProblems(req.query.problem ?? null, req.query.limit ?? 100, req.query.cursor ?? null);
    return { items: page.items.map(keyProblemView), next_cursor: page.nextCursor };
  });
};
