import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { MeterKeyRecord } from '../../../store/store.js';
import { ErrorBody } from '../../schemas.js';
import { HttpError } from '../../http-error.js';
import { iso, KeyHex, MeterId, PagedBody, pageOf, PageQuery } from './common.js';
import type { AdminContext } from './context.js';
import { parseImport } from './key-import.js';

const KeyView = Type.Object({
  meter_id: Type.String(),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  key_id: Type.String({ description: 'Uppercase hex SHA-256 of the key bytes (Lobaro KeyIdentifier). The key itself is never returned.' }),
  updated_at: Type.String({ format: 'date-time' }),
});

/** Keys are write-only: answers carry key_id, never key material. */
export const keyRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  const view = (k: MeterKeyRecord) => ({
    meter_id: k.meterId, manufacturer: k.manufacturer, key_id: ctx.keys.keyIdOf(k), updated_at: iso(k.updatedAt)!,
  });

  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 4 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.get('/keys', {
    schema: { summary: 'List stored meter keys (paged)', tags: ['admin: keys'], querystring: PageQuery, response: { 200: PagedBody(KeyView) } },
  }, async (req) => {
    const page = await ctx.store.listMeterKeys(req.query.limit ?? 100, req.query.cursor ?? null);
    return pageOf(page.items.map(view), page.nextCursor);
  });

  app.get('/keys/:meter_id', {
    schema: { summary: 'One meter key (its key_id)', tags: ['admin: keys'], params: Type.Object({ meter_id: MeterId }), response: { 200: KeyView, 404: ErrorBody } },
  }, async (req) => {
    const k = await ctx.store.getMeterKeyRecord(req.params.meter_id);
    if (!k) throw new HttpError('not_found', `no key for meter ${req.params.meter_id}`);
    return view(k);
  });

  app.put('/keys/:meter_id', {
    schema: {
      summary: 'Store or replace a meter key', tags: ['admin: keys'], params: Type.Object({ meter_id: MeterId }),
      body: Type.Object({ key_hex: KeyHex, manufacturer: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$' })) }),
      response: { 200: KeyView },
    },
  }, async (req) => {
    const manufacturer = req.body.manufacturer?.toUpperCase() ?? null;
    const stored = await ctx.keys.put({ meterId: req.params.meter_id, keyHex: req.body.key_hex, manufacturer }, req.adminActor ?? 'unknown');
    return { meter_id: req.params.meter_id, manufacturer, key_id: stored.keyId, updated_at: iso(stored.updatedAt)! };
  });

  app.delete('/keys/:meter_id', {
    schema: { summary: 'Delete a meter key', tags: ['admin: keys'], params: Type.Object({ meter_id: MeterId }), response: { 204: Type.Null(), 404: ErrorBody } },
  }, async (req, reply) => {
    if (!(await ctx.keys.delete(req.params.meter_id, req.adminActor ?? 'unknown'))) throw new HttpError('not_found', `no key for meter ${req.params.meter_id}`);
    return reply.code(204).send(null);
  });

  app.post('/keys::import', {
    schema: {
      summary: 'Bulk import keys',
      description: 'Body: text/csv without header, rows `meter_id;key_hex[;manufacturer]`, or a JSON array `[{meter_id, key_hex, manufacturer?}]`. Bad rows never stop good ones.',
      tags: ['admin: keys'],
      body: Type.Union([Type.String(), Type.Array(Type.Object({}, { additionalProperties: true }))]),
      response: {
        200: Type.Object({
          imported: Type.Integer(),
          results: Type.Array(Type.Object({ row: Type.Integer(), meter_id: Type.Union([Type.String(), Type.Null()]), ok: Type.Boolean(), error: Type.Optional(Type.String()) })),
        }),
      },
    },
  }, async (req) => {
    const rows = parseImport(req.body as string | Array<Record<string, unknown>>);
    const valid = rows.flatMap((r) => ('error' in r ? [] : [{ meterId: r.meterId, keyHex: r.keyHex, manufacturer: r.manufacturer }]));
    const stored = await ctx.keys.importKeys(valid, req.log);
    let next = 0;
    const results = rows.map((row) => {
      if ('error' in row) return { row: row.row, meter_id: row.meterId, ok: false, error: row.error };
      const ok = stored[next++]?.ok === true;
      return ok ? { row: row.row, meter_id: row.meterId, ok } : { row: row.row, meter_id: row.meterId, ok, error: 'storing the key failed' };
    });
    const imported = results.filter((r) => r.ok).length;
    await ctx.keys.audit(req.adminActor ?? 'unknown', 'keys.import', null, { imported, rejected: results.length - imported });
    return { imported, results };
  });
};
