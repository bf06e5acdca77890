/**
 * `oms-bridge drivers list` — every driver that would run (built-in, DRIVERS_DIR, `--dir DIR`), and
 * `oms-bridge drivers check FILE…` — validates driver files against schemas/driver.schema.json.
 */
import { DriverFileError, loadDriverFile, loadDriverRegistry } from '../drivers/load.js';
import type { DriverMatch } from '../drivers/types.js';
import type { CliIo } from './main.js';

const USAGE = 'usage: oms-bridge drivers list [--dir DIR] [--json] | oms-bridge drivers check FILE…';

function hexList(xs: number[] | undefined): string {
  return xs === undefined ? '*' : xs.map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('/');
}

function matchText(m: DriverMatch): string {
  return `${m.manufacturer} v${hexList(m.version)} t${hexList(m.deviceType)}${m.ci ? ` ci ${m.ci.join('/')}` : ''}`;
}

function list(args: string[], io: CliIo): number {
  let dir = process.env.DRIVERS_DIR || undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dir' && args[i + 1] !== undefined) dir = args[++i];
    else if (a === '--json') json = true;
    else {
      io.stderr.write(`oms-bridge drivers: unknown argument ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  const reg = loadDriverRegistry({ dir });
  for (const d of reg.list()) {
    // The default key itself is never printed, only that the driver has one.
    const row = { id: d.def.id, origin: d.origin, match: d.def.match.map(matchText), fields: d.def.fields.length, defaultKey: d.def.defaultKey !== undefined, description: d.def.description };
    io.stdout.write(json ? `${JSON.stringify(row)}\n` : `${row.id.padEnd(28)} ${String(row.fields).padStart(3)} fields  ${row.match.join(', ')}  (${row.origin})\n`);
  }
  return 0;
}

function check(files: string[], io: CliIo): number {
  if (files.length === 0) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let bad = 0;
  for (const f of files) {
    try {
      const d = loadDriverFile(f);
      io.stdout.write(`${f}: ok (${d.id}, ${d.fields.length} fields)\n`);
    } catch (e) {
      if (!(e instanceof DriverFileError)) throw e;
      bad++;
      io.stdout.write(`${e.file}: ${e.jsonPath || '/'}: ${e.problem}\n`);
    }
  }
  return bad === 0 ? 0 : 1;
}

export async function runDrivers(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'list') return list(rest, io);
    if (sub === 'check') return check(rest, io);
  } catch (e) {
    if (!(e instanceof DriverFileError)) throw e;
    io.stderr.write(`oms-bridge drivers: invalid driver: ${e.message}\n`);
    return 1;
  }
  io.stderr.write(`${USAGE}\n`);
  return 2;
}
