import { Type } from '@sinclair/typebox';
import { iso, PagedBody, pageOf, PageQuery } from './common.js';
const KeyMissingView = Type.Object({
    meter_id: Type.String(),
    manufacturer: Type.Union([Type.String(), Type.Null()]),
    first_seen: Type.String({ format: 'date-time' }),
    last_seen: Type.String({ format: 'date-time' }),
    count: Type.Integer(),
    gateways: Type.Array(Type.String()),
});
/** "Keys needed": meters seen with encrypted telegrams and no key, from live traffic. */
export const meterRoutes = async (app, ctx) => {
    app.get('/meters', {
        schema: {
            summary: 'Meters by status', description: '`status=key_missing`: meters seen with encrypted telegrams and no key; a meter leaves the list when its key is stored.',
            tags: ['admin: keys'],
            querystring: Type.Intersect([PageQuery, Type.Object({ status: Type.Literal('key_missing') })]),
            response: { 200: PagedBody(KeyMissingView) },
        },
    }, async (req) => {
        const page = await ctx.store.listKeyMissing(req.query.limit ?? 100, req.query.cursor ?? null);
        return pageOf(page.items.map((m) => ({
            meter_id: m.meterId, manufacturer: m.manufacturer, first_seen: iso(m.firstSeen), last_seen: iso(m.lastSeen), count: m.count, gateways: m.gateways,
        })), page.nextCursor);
    });
};
