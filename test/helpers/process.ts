import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface BridgeProcess {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the real entry point (src/main.ts through tsx, or `entry`, e.g. a bundle) as a child process with
 * only the given environment.
 */
export function spawnBridge(env: Record<string, string>, entry: string[] = ['--import', 'tsx', 'src/main.ts']): BridgeProcess {
  const proc = spawn(process.execPath, entry, {
    cwd: ROOT,
    // PIPELINE_NICE=0: see test/helpers/app.ts.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PIPELINE_NICE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => stdout.push(d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc, stdout, stderr, exited,
    async waitForOutput(re, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (!re.test(stdout.join('') + stderr.join(''))) {
        if (Date.now() > end) throw new Error(`no ${re} in output:\n${stdout.join('')}\n${stderr.join('')}`);
        if (proc.exitCode !== null) throw new Error(`bridge exited ${proc.exitCode}:\n${stdout.join('')}\n${stderr.join('')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill(signal) {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}
