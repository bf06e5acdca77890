import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function build(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

/**
 * Query strings and path parameters are text and get coerced ("?limit=10");
 * JSON bodies are not: a gateway sending "rssi_dbm": "-80" gets a 400, not a guess.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = build(false);
  const coercing = build(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object) as ValidateFunction;
}
