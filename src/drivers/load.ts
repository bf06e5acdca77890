/**
 * Reads driver files: the built-in ones shipped in drivers/ and a user's DRIVERS_DIR. Every file is
 * validated against schemas/driver.schema.json; a bad file fails with the file, the JSON path and
 * the problem, so a start with a broken driver stops instead of silently decoding less.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv2020 as Ajv2020Class, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { BridgeError } from '../lib/errors.js';
import { DriverRegistry } from './registry.js';
import type { DriverDefinition } from './types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** drivers/ beside src/ and dist/, so both `tsx` and the built package find it. */
export const BUILTIN_DRIVERS_DIR = path.join(root, 'drivers');
export const DRIVER_SCHEMA_PATH = path.join(root, 'schemas', 'driver.schema.json');

export class DriverFileError extends BridgeError {
  constructor(readonly file: string, readonly jsonPath: string, readonly problem: string) {
    super('driver_invalid', `${file}: ${jsonPath || '/'}: ${problem}`, { details: { file, path: jsonPath || '/', problem } });
  }
}

let validator: ValidateFunction | undefined;
/**
 * ajv is loaded and the schema compiled only when a file needs checking (user drivers, the CLI):
 * the built-in drivers are checked by the test suite, so a start without DRIVERS_DIR pays neither.
 */
function validate(): ValidateFunction {
  if (validator === undefined) {
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020Class };
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validator = ajv.compile(JSON.parse(readFileSync(DRIVER_SCHEMA_PATH, 'utf8')) as object);
  }
  return validator;
}

/** The most specific error: ajv reports every failed branch of a oneOf; the deepest path says most. */
function firstProblem(errors: ErrorObject[]): ErrorObject | undefined {
  return [...errors].sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length)[0];
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown property "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  if (e.keyword === 'enum') return `${e.message ?? 'invalid'}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return e.message ?? e.keyword;
}

/** Parses and validates one driver file's text (`checkSchema: false` only for the tested built-in files). */
export function parseDriver(text: string, file: string, checkSchema = true): DriverDefinition {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DriverFileError(file, '', `not valid JSON: ${(e as Error).message}`);
  }
  const v = checkSchema ? validate() : null;
  if (v !== null && !v(json)) {
    const e = firstProblem(v.errors ?? []);
    throw new DriverFileError(file, e?.instancePath ?? '', e !== undefined ? describe(e) : 'invalid');
  }
  const def = json as DriverDefinition;
  def.fields.forEach((f, i) => {
    if (f.repeat !== undefined && !f.name.includes('{n}')) throw new DriverFileError(file, `/fields/${i}/name`, 'a repeated field needs {n} in its name');
    if (f.bytes?.encoding === 'bits' && (f.bytes.parts?.length ?? 0) === 0) throw new DriverFileError(file, `/fields/${i}/bytes/parts`, 'bits needs parts');
    if (f.bytes?.area === 'tlv' && (f.bytes.tag === undefined || def.tlv === undefined)) throw new DriverFileError(file, `/fields/${i}/bytes`, 'area "tlv" needs a "tag" and the driver a "tlv" list');
    if (f.bytes?.area === 'record' && f.bytes.record === undefined) throw new DriverFileError(file, `/fields/${i}/bytes`, 'area "record" needs a "record" selector');
    if (f.bytes?.area === 'decrypted' && def.decrypt === undefined) throw new DriverFileError(file, `/fields/${i}/bytes`, 'area "decrypted" needs the driver\'s "decrypt" step');
    // A repeated field's elements are named by number ({n}).
    const earlier = def.fields.slice(0, i).map((x) => new RegExp(`^${x.name.replace('{n}', '-?[0-9]+')}$`));
    for (const n of [...(f.sum ?? []).map((x) => x.replace(/^-/, '')), ...(f.times !== undefined ? [f.times] : [])]) {
      if (!earlier.some((re) => re.test(n))) throw new DriverFileError(file, `/fields/${i}`, `"${n}" is not a field defined earlier`);
    }
  });
  def.match.forEach((m, i) => {
    if (m.bytes?.area === 'record' && m.bytes.record === undefined) throw new DriverFileError(file, `/match/${i}/bytes`, 'area "record" needs a "record" selector');
  });
  return def;
}

export function loadDriverFile(file: string, checkSchema = true): DriverDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DriverFileError(file, '', `cannot read: ${(e as Error).message}`);
  }
  return parseDriver(text, file, checkSchema);
}

function jsonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new DriverFileError(dir, '', `cannot read the drivers folder: ${(e as Error).message}`);
  }
  return names.filter((n) => n.endsWith('.json')).sort().map((n) => path.join(dir, n));
}

export interface DriverSources {
  /** Include the built-in drivers (default true). */
  builtin?: boolean;
  /** DRIVERS_DIR: user drivers, which win over built-in ones with the same id or telegram. */
  dir?: string;
  /** Single extra files (CLI --driver), added last. */
  files?: string[];
}

export function loadDriverRegistry(src: DriverSources = {}): DriverRegistry {
  const reg = new DriverRegistry();
  if (src.builtin !== false) for (const f of jsonFiles(BUILTIN_DRIVERS_DIR)) reg.add(loadDriverFile(f, false), 'builtin');
  if (src.dir !== undefined) for (const f of jsonFiles(src.dir)) reg.add(loadDriverFile(f), f);
  for (const f of src.files ?? []) reg.add(loadDriverFile(f), f);
  return reg;
}
