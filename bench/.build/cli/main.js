#!/usr/bin/env node
/** `oms-bridge` command line: a thin dispatcher; each subcommand lives in its own module. */
import { runDecode } from './decode.js';
const USAGE = 'usage: oms-bridge decode [--key HEX] HEX | oms-bridge decode --jsonl < lines.jsonl';
const COMMANDS = {
    decode: runDecode,
};
export async function main(argv, io) {
    const [cmd, ...rest] = argv;
    const run = cmd === undefined ? undefined : COMMANDS[cmd];
    if (run === undefined) {
        io.stderr.write(`${USAGE}\n`);
        return 2;
    }
    return run(rest, io);
}
// A reader that goes away (`| head`) is not an error of ours.
process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE')
        process.exit(0);
    throw err;
});
main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
}, (err) => {
    process.stderr.write(`oms-bridge: ${err?.message ?? String(err)}\n`);
    process.exitCode = 1;
});
