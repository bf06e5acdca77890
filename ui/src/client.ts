import createClient from 'openapi-fetch';
import type { paths } from './api.d.ts';
import { currentToken, signOut } from './auth';

/** Typed client for the bridge's admin API; the paths and bodies come from the server's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: location.origin });

api.use({
  onRequest({ request }) {
    const token = currentToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // A token that stopped working (rotated ADMIN_TOKEN) sends the operator back to the login form.
    if (response.status === 401 && currentToken()) signOut();
    return response;
  },
});

/** The JSON body of a path's 200 answer. */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
} ? T : never;

/** The bridge's one error shape, as an exception the pages can show. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the server's code and message. */
export function must<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || r.data === undefined) {
    const e = (r.error as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(r.response.status, e?.code ?? `http_${r.response.status}`, e?.message ?? r.response.statusText);
  }
  return r.data;
}
