import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { TelegramBody } from '../http/schemas.js';
import { telegramProblems, type FieldProblem } from '../http/validate-telegram.js';
import type { BatchIngestInput } from './ingest-service.js';

/** The error object of an item that was not accepted: the same shape as the single API's `error`. */
export interface ItemError {
  code: 'validation_failed' | 'forbidden';
  message: string;
  details?: FieldProblem[];
}

/** A client_id: printable ASCII without spaces, so it is safe in logs and as a database key. */
const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

export const BatchItemBody = Type.Composite([
  TelegramBody,
  Type.Object({ client_id: Type.Optional(Type.String({ maxLength: 128, description: 'Gateway-chosen id, unique per gateway for 24 h: a retried upload gets the first answer.' })) }),
]);

const validate = new Ajv({ allErrors: true, strict: false }).compile(BatchItemBody);

function schemaProblems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((v) => ({
    field: (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.') || String(v.params?.missingProperty ?? ''),
    problem: v.message ?? 'invalid',
  }));
}

/**
 * Checks one telegram outside a single-telegram request (a batch item, an MQTT message): the schema,
 * the field checks of the single API, and that `scope` ('*' or one gateway id) may post for it.
 */
export function checkTelegram(item: unknown, scope: string): { ok: true; input: BatchIngestInput } | { ok: false; error: ItemError } {
  if (!validate(item)) return { ok: false, error: { code: 'validation_failed', message: 'item is invalid', details: schemaProblems(validate.errors) } };
  const b = item as BatchItemBody;
  const problems = telegramProblems(b);
  if (b.client_id !== undefined && !CLIENT_ID.test(b.client_id)) problems.push({ field: 'client_id', problem: 'must be 1 to 128 printable ASCII characters without spaces' });
  if (problems.length > 0) return { ok: false, error: { code: 'validation_failed', message: 'item is invalid', details: problems } };
  if (scope !== '*' && scope !== b.gateway_id) return { ok: false, error: { code: 'forbidden', message: 'this key may not post for this gateway_id' } };
  return {
    ok: true,
    input: {
      gatewayId: b.gateway_id, rxTime: b.rx_time, rssiDbm: b.rssi_dbm, mode: b.mode, rawHex: b.raw_hex,
      meterHint: b.meter_hint, keyHex: b.key_hex, clientId: b.client_id,
    },
  };
}

export type BatchItemBody = Static<typeof BatchItemBody>;
