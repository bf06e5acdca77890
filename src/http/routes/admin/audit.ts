import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { iso, PagedBody, pageOf, PageQuery } from './common.js';
import type { AdminContext } from './context.js';

const AuditView = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String({ description: 'First 16 hex digits of SHA-256 of the admin token used.' }),
  details: Type.Unknown(),
});

/** Every admin change, newest first; never key material. Plus the per-gateway view. */
export const auditRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.get('/audit', {
    schema: { summary: 'Audit log (paged)', tags: ['admin: operations'], querystring: PageQuery, response: { 200: PagedBody(AuditView) } },
  }, async (req) => {
    const page = await ctx.store.listAudit(req.query.limit ?? 100, req.query.cursor ?? null);
    return pageOf(page.items.map((a) => ({ id: a.id, at: iso(a.at)!, action: a.action, target: a.target, actor: a.actor, details: a.details })), page.nextCursor);
  });

  app.get('/gateways', {
    schema: {
      summary: 'Per-gateway view: traffic over the last hour, liveness of every known gateway', tags: ['admin: operations'],
      response: {
        200: Type.Object({
          items: Type.Array(Type.Object({
            gateway_id: Type.String(),
            last_seen: Type.Union([Type.String(), Type.Null()]),
            telegrams_per_min: Type.Integer({ description: 'Accepted in the last 60 s.' }),
            telegrams_last_hour: Type.Integer(),
            mean_rssi_dbm: Type.Union([Type.Number(), Type.Null()]),
            rejected: Type.Integer({ description: 'Rejected requests since this instance started.' }),
            clock_drift_s: Type.Union([Type.Number(), Type.Null()], { description: 'Gateway clock minus server clock, s (largest rx_time − receive time over the last 2 min); null without rx_time.' }),
            status: Type.Union([Type.Literal('online'), Type.Literal('silent'), Type.Null()], { description: 'Liveness: silent after GATEWAY_SILENT_S without a telegram; null until the gateway monitor has seen the gateway.' }),
            status_since: Type.Union([Type.String(), Type.Null()], { description: 'When the status last changed.' }),
          })),
        }),
      },
    },
  }, async () => ({ items: await ctx.gateways.view() }));
};
