import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { MappingVersion } from '../../../store/store.js';
import { HttpError } from '../../http-error.js';
import { ErrorBody } from '../../schemas.js';
import { iso, PagedBody, pageOf, PageQuery } from './common.js';
import type { AdminContext } from './context.js';

const VersionView = Type.Object({
  version: Type.Integer(),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  mappings: Type.Unknown({ description: 'The mapping document: {"mappings":[…]} (shared/lobaro-api.md §3.2).' }),
});

const view = (v: MappingVersion) => ({ version: v.version, active: v.active, created_at: iso(v.createdAt)!, mappings: JSON.parse(v.json) as unknown });

/** Mapping configuration versions; a change applies to the next job on every instance. */
export const mappingRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  const audit = (actor: string | undefined, action: string, target: string) =>
    ctx.store.insertAudit({ at: Date.now(), action, target, actor: actor ?? 'unknown', details: null });

  app.get('/mappings/active', {
    schema: { summary: 'The active mapping configuration', tags: ['admin: mappings'], response: { 200: VersionView, 404: ErrorBody } },
  }, async () => {
    const v = await ctx.store.getActiveMapping();
    if (!v) throw new HttpError('not_found', 'no mapping version yet');
    return view(v);
  });

  app.put('/mappings/active', {
    schema: {
      summary: 'Store a new mapping version and activate it', tags: ['admin: mappings'],
      body: Type.Unknown({ description: '{"mappings":[…]}' }),
      response: { 200: VersionView, 400: ErrorBody },
    },
  }, async (req) => {
    const result = await ctx.mappings.put(req.body);
    if (Array.isArray(result)) throw new HttpError('validation_failed', 'mapping document is invalid', { details: result });
    await audit(req.adminActor, 'mapping.put', String(result.version));
    return view(result);
  });

  app.get('/mappings/versions', {
    schema: { summary: 'All mapping versions, newest first (paged)', tags: ['admin: mappings'], querystring: PageQuery, response: { 200: PagedBody(VersionView) } },
  }, async (req) => {
    const page = await ctx.store.listMappingVersions(req.query.limit ?? 100, req.query.cursor ?? null);
    return pageOf(page.items.map(view), page.nextCursor);
  });

  app.post('/mappings/versions/:n(^\\d+)::activate', {
    schema: {
      summary: 'Activate an earlier mapping version (rollback)', tags: ['admin: mappings'],
      params: Type.Object({ n: Type.String({ pattern: '^[0-9]{1,9}$' }) }),
      response: { 200: VersionView, 404: ErrorBody },
    },
  }, async (req) => {
    const v = await ctx.mappings.activate(Number(req.params.n));
    if (!v) throw new HttpError('not_found', `no mapping version ${req.params.n}`);
    await audit(req.adminActor, 'mapping.activate', String(v.version));
    return view(v);
  });
};
