import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
function build(coerceTypes) {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
    addFormats(ajv);
    return ajv;
}
/**
 * Query strings and path parameters are text and get coerced ("?limit=10");
 * JSON bodies are not: a gateway sending "rssi_dbm": "-80" gets a 400, not a guess.
 */
export function validatorCompiler() {
    const strict = build(false);
    const coercing = build(true);
    return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}
