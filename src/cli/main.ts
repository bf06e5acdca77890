#!/usr/bin/env node
/** `oms-bridge` command line: a thin dispatcher; each subcommand lives in its own module. */
import { runDecode } from './decode.js';
import { runDrivers } from './drivers.js';
import { FORWARD_USAGE, runForward } from './forward.js';

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = [
  'usage: oms-bridge decode [--accept-predecrypted] [--key HEX] [--driver FILE]… HEX | oms-bridge decode [--accept-predecrypted] [--driver FILE]… --jsonl < lines.jsonl',
  '       oms-bridge drivers list [--dir DIR] [--json] | oms-bridge drivers check FILE…',
  FORWARD_USAGE,
].join('\n');

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  decode: runDecode,
  drivers: runDrivers,
  forward: (args, io) => runForward(args, io),
};

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  const run = cmd === undefined ? undefined : COMMANDS[cmd];
  if (run === undefined) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return run(rest, io);
}

// A reader that goes away (`| head`) is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`oms-bridge: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
