/**
 * Shared plumbing of the benchmarks: env knobs, free ports, child-process
 * bookkeeping (every child is stopped at the end, even on error or Ctrl-C),
 * /proc readers and machine facts for the results.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BENCH_DIR = join(ROOT, 'bench');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A positive number from the environment, else the default. */
export function envNum(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
}

/** A comma-separated list of numbers from the environment, else the default. */
export function envNums(name: string, fallback: number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  return v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a comma-separated list of positive numbers, got "${v}"`);
    return n;
  });
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Polls `pred` until it holds; false on timeout. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- children and cleanup

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];

/** Spawns a child that is SIGKILLed if this process exits without stopping it. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, opts);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILL. Only ever this child's pid. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Registers a cleanup step; steps run in reverse order at the end of `runBench`. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error('cleanup step failed:', err);
    }
  }
  for (const c of [...children]) await stopChild(c, 'SIGKILL', 2_000);
}

/** Runs a benchmark body; stops every child process at the end, on error and on SIGINT/SIGTERM. */
export function runBench(name: string, body: () => Promise<void>): void {
  let ending = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (ending) return;
    ending = true;
    console.error(`\n${name}: ${signal}, stopping child processes`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  body().then(
    async () => {
      ending = true;
      await runCleanups();
      process.exit(0);
    },
    async (err: unknown) => {
      ending = true;
      console.error(`${name} failed:`, err);
      await runCleanups();
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------- /proc

/** Resident set size of a process in kB (VmRSS), null when it is gone. */
export function rssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat (USER_HZ = 100). */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return null;
  }
}

/** CPU use of a process between two calls, in % of one core. */
export class CpuMeter {
  private startCpu: number | null;
  private startAt: number;
  constructor(private readonly pid: number) {
    this.startCpu = cpuMs(pid);
    this.startAt = performance.now();
  }

  /** % of one core since construction or the last reset. */
  read(): number | null {
    const now = cpuMs(this.pid);
    if (now === null || this.startCpu === null) return null;
    return (100 * (now - this.startCpu)) / (performance.now() - this.startAt);
  }

  reset(): void {
    this.startCpu = cpuMs(this.pid);
    this.startAt = performance.now();
  }
}

/** CPU time (ms) of all processes whose command name is `comm` (e.g. every PostgreSQL backend). */
export function cpuMsByName(comm: string): number {
  let total = 0;
  for (const pid of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== comm) continue;
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(rest[11]) + Number(rest[12])) * 10;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Busy share of the whole machine (all cores) between construction and read(), from /proc/stat, %. */
export class MachineCpuMeter {
  private start = MachineCpuMeter.sample();
  private static sample(): { busy: number; total: number } {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = (f[3] ?? 0) + (f[4] ?? 0);
      const total = f.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    } catch {
      return { busy: 0, total: 0 };
    }
  }

  read(): number | null {
    const now = MachineCpuMeter.sample();
    const dt = now.total - this.start.total;
    return dt > 0 ? (100 * (now.busy - this.start.busy)) / dt : null;
  }
}

// ---------------------------------------------------------------- machine facts

export interface SystemInfo {
  date: string;
  /** /proc/pressure/cpu "some" avg60 at start: % of time runnable tasks waited for a CPU (noise from other processes). */
  cpuPressureAvg60AtStart: number | null;
  nproc: number;
  cpuModel: string;
  node: string;
  loadavg1AtStart: number;
  /** Other busy processes seen at start (the machine is shared with test runs). */
  busyProcessesAtStart: string[];
}

export function systemInfo(): SystemInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    date: new Date().toISOString(),
    cpuPressureAvg60AtStart: cpuPressure(),
    nproc: availableParallelism(),
    cpuModel,
    node: process.version,
    loadavg1AtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    busyProcessesAtStart: busyProcesses(),
  };
}

/** CPU pressure stall information, "some" avg60 (%), null where /proc/pressure is missing. */
export function cpuPressure(): number | null {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Bytes a process caused to be written to storage so far (/proc/<pid>/io write_bytes), null when unreadable. */
export function writeBytes(pid: number): number | null {
  try {
    const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Commands of other node/vitest/tsc processes running now: a hint that the numbers were taken on a shared machine. */
function busyProcesses(): string[] {
  try {
    const out = new Set<string>();
    for (const entry of readdirProc()) {
      if (entry === String(process.pid)) continue;
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        continue;
      }
      if (/vitest|tsc |\btsx\b|node .*test/.test(cmd) && !cmd.includes('bench/')) out.add(cmd.slice(0, 120));
    }
    return [...out];
  } catch {
    return [];
  }
}

function readdirProc(): string[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e));
}

export function banner(title: string, info: SystemInfo, extra: Record<string, string>): void {
  console.log(`\n# ${title}`);
  console.log(`${info.date} · ${info.nproc} cores (${info.cpuModel}) · node ${info.node} · load avg ${info.loadavg1AtStart} · CPU pressure avg60 ${info.cpuPressureAvg60AtStart ?? '-'}%`);
  for (const [k, v] of Object.entries(extra)) console.log(`${k}: ${v}`);
  if (info.busyProcessesAtStart.length > 0) {
    console.log(`note: machine shared — ${info.busyProcessesAtStart.length} other test/build process(es) running at start`);
  }
}
