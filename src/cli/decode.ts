/**
 * `oms-bridge decode`: one telegram from argv, or JSON Lines `{"hex","key"}` from stdin. Built-in
 * drivers, DRIVERS_DIR and every `--driver FILE` apply, so a driver can be developed against
 * captured telegrams before it is deployed.
 */
import { createInterface } from 'node:readline';
import { decodeWithDrivers, type DriverRegistry } from '../drivers/index.js';
import { DriverFileError, loadDriverRegistry } from '../drivers/load.js';
import { FormatCache, WmbusError } from '../wmbus/index.js';
import type { CliIo } from './main.js';

const USAGE = 'usage: oms-bridge decode [--accept-predecrypted] [--key HEX] [--driver FILE]… HEX | oms-bridge decode [--accept-predecrypted] [--driver FILE]… --jsonl < lines.jsonl';
/** Formats kept across JSONL lines so compact frames (CI 79) decode after their full frame. */
const CACHE_ENTRIES = 4096;
/** A line longer than this cannot be a telegram (1024 bytes as hex plus JSON). */
const MAX_LINE = 16_384;

interface Parsed {
  key: string | null;
  jsonl: boolean;
  hex: string | null;
  /** Lab data: take a plaintext body under an encryption header as already decrypted (output says Authenticated: false). */
  acceptPredecrypted: boolean;
  drivers: string[];
}

function parseArgs(args: string[]): Parsed | string {
  const p: Parsed = { key: null, jsonl: false, hex: null, acceptPredecrypted: false, drivers: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--driver') {
      const f = args[++i];
      if (f === undefined) return '--driver needs a file';
      p.drivers.push(f);
    } else if (a.startsWith('--driver=')) {
      p.drivers.push(a.slice('--driver='.length));
    } else if (a === '--key') {
      const k = args[++i];
      if (k === undefined) return '--key needs a value';
      p.key = k;
    } else if (a.startsWith('--key=')) {
      p.key = a.slice('--key='.length);
    } else if (a === '--jsonl') {
      p.jsonl = true;
    } else if (a === '--accept-predecrypted') {
      p.acceptPredecrypted = true;
    } else if (a.startsWith('-') && a !== '-') {
      return `unknown option ${a}`;
    } else if (p.hex === null) {
      p.hex = a;
    } else {
      return 'only one telegram may be given';
    }
  }
  if (p.jsonl === (p.hex !== null)) return p.jsonl ? '--jsonl reads stdin; give no telegram' : 'missing telegram';
  return p;
}

function errorLine(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * wmbusmeters writes "NOKEY" for "no key" and uses `_`, `|` and `#` as visual
 * separators in telegram hex; both are accepted so its test data can be piped in as is.
 */
function normalizeKey(key: string | null | undefined): string | null {
  if (key === undefined || key === null) return null;
  const k = key.trim();
  return k === '' || k.toUpperCase() === 'NOKEY' ? null : k;
}

/** One decode to one JSON line; typed decoder errors become `{"error":{…}}`. */
function decodeLine(hex: unknown, key: unknown, cache: FormatCache, drivers: DriverRegistry, acceptPredecrypted: boolean): string {
  if (typeof hex !== 'string') return errorLine('invalid_input', 'field "hex" must be a string');
  if (key !== undefined && key !== null && typeof key !== 'string') return errorLine('invalid_input', 'field "key" must be a string or null');
  try {
    return JSON.stringify(decodeWithDrivers(hex.replace(/[_|#]/g, ''), { key: normalizeKey(key), formatCache: cache, acceptPredecrypted }, drivers));
  } catch (e) {
    if (e instanceof WmbusError) return errorLine(e.code, e.message);
    throw e;
  }
}

export async function runDecode(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args);
  if (typeof p === 'string') {
    io.stderr.write(`oms-bridge decode: ${p}\n${USAGE}\n`);
    return 2;
  }
  let drivers: DriverRegistry;
  try {
    drivers = loadDriverRegistry({ dir: process.env.DRIVERS_DIR || undefined, files: p.drivers });
  } catch (e) {
    if (!(e instanceof DriverFileError)) throw e;
    io.stderr.write(`oms-bridge decode: invalid driver: ${e.message}\n`);
    return 1;
  }
  const cache = new FormatCache(CACHE_ENTRIES);
  if (!p.jsonl) {
    io.stdout.write(`${decodeLine(p.hex, p.key, cache, drivers, p.acceptPredecrypted)}\n`);
    return 0;
  }
  const rl = createInterface({ input: io.stdin, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      let out: string;
      // Every input line gets its output line, a blank one included, so outputs stay aligned.
      if (line.trim() === '') {
        out = errorLine('invalid_json', 'line is empty');
      } else if (line.length > MAX_LINE) {
        out = errorLine('invalid_input', `line longer than ${MAX_LINE} characters`);
      } else {
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch {
          obj = undefined;
        }
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) out = errorLine('invalid_json', 'line is not a JSON object');
        else {
          const o = obj as Record<string, unknown>;
          out = decodeLine(o.hex, o.key, cache, drivers, p.acceptPredecrypted);
        }
      }
      if (!io.stdout.write(`${out}\n`)) await new Promise<void>((resolve) => io.stdout.once('drain', resolve));
    }
  } catch (e) {
    io.stderr.write(`oms-bridge decode: cannot read stdin: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
