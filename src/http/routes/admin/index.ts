import type { FastifyInstance } from 'fastify';
import type { AdminAuth } from '../../admin-auth.js';
import { HttpError } from '../../http-error.js';
import { LoginThrottle } from '../../login-throttle.js';
import { auditRoutes } from './audit.js';
import type { AdminContext } from './context.js';
import { decodeRoutes } from './decode.js';
import { keyRoutes } from './keys.js';
import { mappingRoutes } from './mappings.js';
import { keyProblemRoutes } from './key-problems.js';
import { meterRoutes } from './meters.js';
import { overviewRoutes } from './overview.js';
import { telegramAdminRoutes } from './telegrams.js';

/** /v1/admin/*: Bearer ADMIN_TOKEN only (gateway keys never work here). */
export function adminPlugin(auth: AdminAuth, ctx: AdminContext, throttle = new LoginThrottle()) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (admin) => {
      admin.addHook('onRequest', async (req) => {
        const waitS = throttle.retryAfterS(req.ip);
        if (waitS > 0) throw new HttpError('login_throttled', 'too many failed admin logins from this address', { headers: { 'retry-after': String(waitS) } });
        const actor = auth.check(req.headers.authorization);
        if (!actor) {
          if (auth.enabled) throttle.fail(req.ip);
          const message = !auth.enabled ? 'admin API is disabled: set ADMIN_TOKEN'
            : req.headers.authorization ? 'wrong admin token' : 'missing Authorization: Bearer <ADMIN_TOKEN>';
          throw new HttpError('unauthorized', message);
        }
        req.adminActor = actor;
      });
      for (const routes of [keyRoutes, meterRoutes, keyProblemRoutes, mappingRoutes, telegramAdminRoutes, auditRoutes, overviewRoutes, decodeRoutes]) await admin.register(routes, ctx);
    }, { prefix: '/v1/admin' });
  };
}
