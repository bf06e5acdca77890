import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.js';

/** ui/dist, built by `npm run build` (vite); the same path from src/http (tsx) and dist/http (compiled). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

// The page talks only to this origin and holds the admin token in memory: no inline script,
// no third-party origin, no framing.
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
].join('; ');

/**
 * The operator console at /ui: static files only. Every number on it comes from the admin API
 * with the operator's token, so the files themselves need no auth and hold nothing secret.
 */
export function consolePlugin(dir = CONSOLE_DIR) {
  return async (app: FastifyInstance): Promise<void> => {
    if (!existsSync(`${dir}/index.html`)) {
      app.get('/ui', { schema: { hide: true } }, async () => {
        throw new HttpError('not_found', 'the operator console is not built: run `npm run build`');
      });
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/ui/',
      redirect: true,
      decorateReply: false,
      wildcard: false,
      schemaHide: true,
      setHeaders(res, path) {
        res.setHeader('content-security-policy', CSP);
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('referrer-policy', 'no-referrer');
        // Asset names carry a content hash; index.html must be fetched again after an upgrade.
        res.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  };
}
