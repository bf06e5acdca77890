/**
 * The bridge under test as a child process: compiled once into .bench-build
 * (a private outDir, so a colleague's `npm run build` cannot swap files under
 * a running benchmark, and no tsx in the measured process), started with
 * `node .bench-build/main.js`, SQLite in a fresh temp directory unless
 * DATABASE_URL is given, HTTP on a free loopback port.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, ROOT, rssKb, sleep, spawnTracked, stopChild } from './common.js';

// Beside src/ and drivers/, so the compiled bridge finds drivers/ and schemas/ as dist/ does.
export const BUILD_DIR = join(ROOT, '.bench-build');
/** The gateway key every benchmark bridge accepts (for any gateway_id). */
export const API_KEY = 'bench-gateway-key-0123456789';

let built = false;

/**
 * Compiles src/ to .bench-build with the project's build config. A type error
 * elsewhere in src/ (colleagues are editing) still emits JavaScript; that is
 * reported, and the run goes on if main.js exists. BENCH_SKIP_BUILD=1 reuses
 * the last build.
 */
export function buildBridge(): void {
  if (built) return;
  built = true;
  if (process.env.BENCH_SKIP_BUILD === '1' && existsSync(join(BUILD_DIR, 'main.js'))) {
    console.log('build: reusing .bench-build (BENCH_SKIP_BUILD=1)');
    return;
  }
  const started = Date.now();
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    if (!existsSync(join(BUILD_DIR, 'main.js'))) throw new Error(`build failed:\n${out}`);
    console.warn(`build: tsc reported errors (src/ is being edited?); running the emitted JavaScript anyway:\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
  console.log(`build: src/ → .bench-build in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface Health {
  status: string;
  mqtt: { connected: boolean };
  queue: { depth: number; max: number; in_flight: number };
  outbox: { depth: number; max: number };
}

export interface BridgeOptions {
  label: string;
  /** Environment on top of the benchmark defaults (PARSER, MQTT_URL, …). */
  env: Record<string, string>;
  /** Write a V8 CPU profile into this directory (node --cpu-prof), flushed on stop. */
  cpuProfDir?: string | undefined;
}

export class BridgeProcess {
  private readonly stderrChunks: string[] = [];

  private constructor(
    readonly label: string,
    readonly proc: ChildProcess,
    readonly url: string,
    private readonly tempDir: string,
    readonly cpuProfDir: string | undefined,
  ) {
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderrChunks.push(d.toString('utf8'));
      if (this.stderrChunks.length > 200) this.stderrChunks.splice(0, 100);
    });
    proc.stdout?.on('data', (d: Buffer) => {
      this.stderrChunks.push(d.toString('utf8'));
      if (this.stderrChunks.length > 200) this.stderrChunks.splice(0, 100);
    });
  }

  static async start(o: BridgeOptions): Promise<BridgeProcess> {
    buildBridge();
    const tempDir = mkdtempSync(join(tmpdir(), 'oms-bench-'));
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      APP_ENV: 'dev',
      HOST: '127.0.0.1',
      PORT: String(port),
      INGEST_API_KEYS: `*:${API_KEY}`,
      LOG_LEVEL: 'warn',
      QUEUE_MAX: '10000000',
      OUTBOX_MAX: '10000000',
      DATABASE_URL: `sqlite:///${join(tempDir, 'bridge.db')}`,
      MAPPINGS_FILE: join(tempDir, 'domainMappings.json'),
      ...o.env,
      // Ad-hoc comparisons, e.g. BENCH_BRIDGE_ENV='{"PIPELINE_THREAD":"true"}'.
      ...(process.env.BENCH_BRIDGE_ENV ? (JSON.parse(process.env.BENCH_BRIDGE_ENV) as Record<string, string>) : {}),
    };
    const args: string[] = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    if (o.cpuProfDir) {
      mkdirSync(o.cpuProfDir, { recursive: true });
      args.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
    }
    args.push(join(BUILD_DIR, 'main.js'));
    const proc = spawnTracked(process.execPath, args, { cwd: tempDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const b = new BridgeProcess(o.label, proc, `http://127.0.0.1:${port}`, tempDir, o.cpuProfDir);
    const end = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) {
        rmSync(tempDir, { recursive: true, force: true });
        throw new Error(`bridge ${o.label} exited ${proc.exitCode} on start:\n${b.output()}`);
      }
      const h = await b.health().catch(() => null);
      if (h) break;
      if (Date.now() > end) {
        await b.stop();
        throw new Error(`bridge ${o.label} did not answer /healthz within 30 s:\n${b.output()}`);
      }
      await sleep(100);
    }
    return b;
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Last stdout/stderr lines (warn and error logs). */
  output(): string {
    return this.stderrChunks.join('').slice(-4000);
  }

  rssKb(): number | null {
    return rssKb(this.pid);
  }

  /** Size of the SQLite WAL file now (0 when there is none). */
  walBytes(): number {
    try {
      return statSync(join(this.tempDir, 'bridge.db-wal')).size;
    } catch {
      return 0;
    }
  }

  async health(): Promise<Health> {
    const res = await request(`${this.url}/healthz`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    const text = await res.body.text();
    return JSON.parse(text) as Health;
  }

  /** Waits until queue and outbox are empty; returns the wait in ms, or null on timeout. */
  async waitIdle(timeoutMs: number): Promise<number | null> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const h = await this.health().catch(() => null);
      if (h && h.queue.depth === 0 && h.queue.in_flight === 0 && h.outbox.depth === 0) return Date.now() - started;
      await sleep(200);
    }
    return null;
  }

  /** SIGTERM (graceful: drains, flushes the CPU profile), SIGKILL after 20 s; removes the temp directory. */
  async stop(): Promise<void> {
    await stopChild(this.proc, 'SIGTERM', 20_000);
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  /** The .cpuprofile files written so far. */
  profiles(): string[] {
    if (!this.cpuProfDir || !existsSync(this.cpuProfDir)) return [];
    return readdirSync(this.cpuProfDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(this.cpuProfDir!, f));
  }
}
