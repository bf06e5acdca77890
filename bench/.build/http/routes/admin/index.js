import { HttpError } from '../../http-error.js';
import { auditRoutes } from './audit.js';
import { keyRoutes } from './keys.js';
import { mappingRoutes } from './mappings.js';
import { meterRoutes } from './meters.js';
import { telegramAdminRoutes } from './telegrams.js';
/** /v1/admin/*: Bearer ADMIN_TOKEN only (gateway keys never work here). */
export function adminPlugin(auth, ctx) {
    return async (app) => {
        await app.register(async (admin) => {
            admin.addHook('onRequest', async (req) => {
                const actor = auth.check(req.headers.authorization);
                if (!actor) {
                    const message = !auth.enabled ? 'admin API is disabled: set ADMIN_TOKEN'
                        : req.headers.authorization ? 'wrong admin token' : 'missing Authorization: Bearer <ADMIN_TOKEN>';
                    throw new HttpError(401, 'unauthorized', message);
                }
                req.adminActor = actor;
            });
            for (const routes of [keyRoutes, meterRoutes, mappingRoutes, telegramAdminRoutes, auditRoutes])
                await admin.register(routes, ctx);
        }, { prefix: '/v1/admin' });
    };
}
