import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT } from './process.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);

function load(name: string) {
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', name), 'utf8')) as object);
}

export const validateReading = load('reading.schema.json');
export const validateError = load('error.schema.json');
