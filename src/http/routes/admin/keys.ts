import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KEY_PROBLEMS, type MeterKeyRecord } from '../../../store/store.js';
import { ErrorBody } from '../../schemas.js';
import { HttpError } from '../../http-error.js';
import { iso, KeyHex, MeterId, PagedBody, pageOf, PageQuery } from './common.js';
import type { AdminContext } from './context.js';
import { parseImport, type ImportRow } from './key-import.js';

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
      description: 'Body: text/csv without header, rows `meter_id;key_hex[;manufacturer]`, or a JSON array `[{meter_id, key_hex, manufacturer?}]`. Bad rows never stop good ones. '
        + '`dry_run=true` stores nothing: it says which rows are valid and what each matches — `key_problem` (the meter is on the key problems list or its last telegram failed to decrypt), '
        + '`known` (heard, no key problem) or `unknown` (never heard) — whether a key is stored already (the import would replace it) and which rows repeat a meter id.',
      tags: ['admin: keys'],
      querystring: Type.Object({ dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Preview only: nothing is stored.' })) }),
      body: Type.Union([Type.String(), Type.Array(Type.Object({}, { additionalProperties: true }))]),
      response: {
        200: Type.Object({
          imported: Type.Integer(),
          dry_run: Type.Optional(Type.Boolean()),
          summary: Type.Optional(Type.Object({
            valid: Type.Integer(), invalid: Type.Integer(), key_problem: Type.Integer(), known: Type.Integer(), unknown: Type.Integer(), replaces_key: Type.Integer(),
          }, { description: 'dry_run only: counts over the rows.' })),
          results: Type.Array(Type.Object({
            row: Type.Integer(),
            meter_id: Type.Union([Type.String(), Type.Null()]),
            ok: Type.Boolean({ description: 'Stored; with dry_run: valid.' }),
            error: Type.Optional(Type.String()),
            match: Type.Optional(Type.Union([Type.Literal('key_problem'), Type.Literal('known'), Type.Literal('unknown')])),
            meter_status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('stale'), Type.Literal('key_problem'), Type.Null()])),
            key_problem: Type.Optional(Type.Union([...KEY_PROBLEMS.map((k) => Type.Literal(k)), Type.Null()], { description: 'The meter\'s entry on GET /v1/admin/key-problems, null when none.' })),
            key_missing: Type.Optional(Type.Boolean({ description: 'key_problem is key_missing.' })),
            has_key: Type.Optional(Type.Boolean({ description: 'A key is stored; importing replaces it.' })),
            duplicate_of_row: Type.Optional(Type.Integer({ description: 'An earlier row has the same meter id (the last row wins on import).' })),
          })),
        }),
      },
    },
  }, async (req) => {
    const rows = parseImport(req.body as string | Array<Record<string, unknown>>);
    if (req.query.dry_run) {
      const preview = await previewImport(ctx, rows);
      await ctx.keys.audit(req.adminActor ?? 'unknown', 'keys.import_preview', null, { valid: preview.summary.valid, invalid: preview.summary.invalid });
      return { imported: 0, dry_run: true, ...preview };
    }
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

/** What an import would do, row by row, without storing: one store query for all rows. */
async function previewImport(ctx: AdminContext, rows: ImportRow[]) {
  const validRows = rows.filter((r): r is Extract<ImportRow, { keyHex: string }> => !('error' in r));
  const matches = await ctx.store.matchMeters(validRows.map((r) => r.meterId));
  const byRow = new Map(validRows.map((r, i) => [r.row, matches[i]!]));
  const firstRow = new Map<string, number>();
  const summary = { valid: validRows.length, invalid: rows.length - validRows.length, key_problem: 0, known: 0, unknown: 0, replaces_key: 0 };
  const results = rows.map((row) => {
    if ('error' in row) return { row: row.row, meter_id: row.meterId, ok: false, error: row.error };
    const m = byRow.get(row.row)!;
    const match = m.keyProblem !== null || m.status === 'key_problem' ? 'key_problem' as const : m.status !== null ? 'known' as const : 'unknown' as const;
    summary[match]++;
    if (m.hasKey) summary.replaces_key++;
    const earlier = firstRow.get(row.meterId);
    if (earlier === undefined) firstRow.set(row.meterId, row.row);
    return {
      row: row.row, meter_id: row.meterId, ok: true, match, meter_status: m.status,
      key_problem: m.keyProblem, key_missing: m.keyProblem === 'key_missing', has_key: m.hasKey,
      ...(earlier === undefined ? {} : { duplicate_of_row: earlier }),
    };
  });
  return { summary, results };
}
