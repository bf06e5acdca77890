import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { checkTelegram, type ItemError } from '../../ingest/check-telegram.js';
import type { BatchIngestInput } from '../../ingest/ingest-service.js';
import { HttpError } from '../http-error.js';
import { ErrorBody } from '../schemas.js';
import type { TelegramRoutesOptions } from './telegrams.js';

type App = Parameters<FastifyPluginAsyncTypebox>[0];

export const BATCH_MAX_ITEMS = 1_000;

const ItemResult = Type.Object({
  status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('invalid')]),
  ingest_id: Type.Optional(Type.String({ description: 'accepted: this telegram; duplicate: the first one within the dedup window.' })),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) })),
});

const BatchAnswer = Type.Object({
  accepted: Type.Integer(),
  duplicate: Type.Integer(),
  invalid: Type.Integer(),
  results: Type.Array(ItemResult, { description: 'One per item, in order.' }),
});

type ItemAnswer = { status: 'accepted' | 'duplicate'; ingest_id: string } | { status: 'invalid'; error: ItemError };

/**
 * POST /v1/telegrams/batch — store-and-forward gateways and the forwarder. Items are checked one by
 * one (a bad item does not sink the others); the valid ones land in one transaction before the 200.
 * Registered inside telegramRoutes, so gateway auth and the rate limit run first.
 */
export function registerBatchRoute(app: App, opts: TelegramRoutesOptions, refusal: (err: unknown) => HttpError | undefined): void {
  app.post('/v1/telegrams/batch', {
    bodyLimit: opts.batchMaxBytes,
    schema: {
      summary: 'Submit up to 1,000 telegrams in one request',
      description: 'Each item is a telegram as for POST /v1/telegrams plus an optional `client_id`. The answer has one result per item, in order. '
        + 'A `client_id` seen from the same gateway within 24 h returns the first answer and stores nothing, so a whole upload can be retried safely.',
      tags: ['gateway'],
      security: [{ gatewayKey: [] }],
      body: Type.Object({
        // Any JSON value per item: one that is not a telegram object (null, a string) is answered as `invalid` in its slot, the others go on.
        items: Type.Array(Type.Unknown({ description: 'A telegram as for POST /v1/telegrams, plus an optional client_id.' }), { minItems: 1, maxItems: BATCH_MAX_ITEMS }),
      }),
      response: { 200: BatchAnswer, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const full = opts.ingest.full();
    if (full) throw new HttpError('backpressure', `${full} is full; retry later`, { headers: { 'retry-after': String(opts.retryAfterS) } });
    const scope = req.gatewayScope ?? '';
    const answers: ItemAnswer[] = [];
    const valid: BatchIngestInput[] = [];
    const slots: number[] = [];
    for (const item of req.body.items) {
      const checked = checkTelegram(item, scope);
      if (checked.ok) {
        slots.push(answers.length);
        valid.push(checked.input);
        answers.push({ status: 'accepted', ingest_id: '' });
      } else {
        answers.push({ status: 'invalid', error: checked.error });
      }
    }
    const results = await opts.ingest.acceptBatch(valid).catch((err: unknown) => {
      throw refusal(err) ?? err;
    });
    let accepted = 0;
    let duplicate = 0;
    results.forEach((r, i) => {
      answers[slots[i]!] = { status: r.duplicate ? 'duplicate' : 'accepted', ingest_id: r.ingestId };
      if (r.duplicate) duplicate++;
      else accepted++;
    });
    const invalid = answers.length - valid.length;
    opts.onBatch?.({ gatewayId: req.authenticatedGateway, accepted, duplicate, invalid, repeated: results.filter((r) => r.repeated).length });
    return reply.code(200).send({ accepted, duplicate, invalid, results: answers });
  });
}
