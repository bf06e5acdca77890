import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { AdminAuth } from '../../src/http/admin-auth.js';
import { adminPlugin } from '../../src/http/routes/admin/index.js';
import { toHttpError } from '../../src/http/server.js';
import type { AdminContext } from '../../src/http/routes/admin/context.js';
import { decodeCursor, encodeCursor } from '../../src/store/page-cursor.js';
import type { ReplayResult } from '../../src/store/store.js';
import { OMS_EXAMPLE } from '../helpers/app.js';

const TOKEN = 'admin-token-for-unit-tests-01';
/** Unencrypted (security mode 0): replayed without a key, it still decodes. */
const PLAIN = '1e44ae4c9956341268077a360010002f2f0413a5d30000';

async function appWith(room: number, result: ReplayResult) {
  const replayTelegrams = vi.fn(async () => result);
  const ctx = {
    store: { replayTelegrams, insertAudit: vi.fn(async () => {}) },
    replayMax: 10_000, queueRoom: async () => room, wakeWorkers: vi.fn(),
  } as unknown as AdminContext;
  const app = Fastify();
  app.setErrorHandler((err: Error, _req, reply) => {
    const http = toHttpError(err);
    void reply.code(http.statusCode).headers(http.headers).send(http.body);
  });
  await adminPlugin(new AdminAuth(TOKEN), ctx)(app);
  const replay = (body: unknown) => app.inject({
    method: 'POST', url: '/v1/admin/telegrams:replay', payload: JSON.stringify(body),
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  });
  return { app, replay, replayTelegrams, ctx };
}

describe('POST /v1/admin/telegrams:replay bounds (issue 10)', () => {
  it('re-queues no more than QUEUE_MAX still admits, and nothing when the queue is full', async () => {
    const some = await appWith(3, { replayed: 3, remaining: 7, keyless: [] });
    const res = await some.replay({ meter_id: '12345678' });
    expect(res.json()).toEqual({ replayed: 3, remaining: 7, limit: 3, undecryptable: 0, undecryptable_ingest_ids: [] });
    expect(some.replayTelegrams).toHaveBeenCalledWith({ meterId: '12345678' }, expect.any(Number), 3);

    const full = await appWith(0, { replayed: 0, remaining: 0, keyless: [] });
    const refused = await full.replay({ meter_id: '12345678' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('backpressure');
    expect(refused.headers['retry-after']).toBe('5');
    expect(full.replayTelegrams).not.toHaveBeenCalled();
  });

  it('counts as undecryptable only keyless telegrams that are encrypted', async () => {
    const t = await appWith(100, { replayed: 2, remaining: 0, keyless: [{ ingestId: 'enc', rawHex: OMS_EXAMPLE }, { ingestId: 'plain', rawHex: PLAIN }] });
    expect((await t.replay({ gateway_id: 'gw1' })).json()).toMatchObject({ undecryptable: 1, undecryptable_ingest_ids: ['enc'] });
  });

  it('refuses filters with control characters before they reach a query', async () => {
    const t = await appWith(100, { replayed: 0, remaining: 0, keyless: [] });
    for (const body of [{ meter_id: 'm\u0000' }, { gateway_id: 'g\u0001' }, { error_code: 'x\u0000' }]) {
      expect((await t.replay(body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(t.replayTelegrams).not.toHaveBeenCalled();
  });
});

describe('paging cursors', () => {
  it('refuse strings with control characters', () => {
    expect(decodeCursor(encodeCursor(['abc', 1]), ['string', 'number'] as const)).toEqual(['abc', 1]);
    expect(() => decodeCursor(encodeCursor(['a\u0000b']), ['string'] as const)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});
