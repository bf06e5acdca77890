/**
 * Start-up: wall time from spawn to the first /healthz answer and the process's CPU time (all threads)
 * at that moment, for `npm start`'s entry (dist/bundle/main.js) and the unbundled dist/main.js,
 * alternated. Embedded default (SQLite file, embedded broker on a free port, built-in decoder).
 * Needs `npm run build` first. Run: npx tsx bench/start.ts   Env: BENCH_RUNS=5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, envNum, freePort, ROOT, runBench, sleep, spawnTracked, stopChild } from './lib/common.js';

const RUNS = envNum('BENCH_RUNS', 5);
const ENTRIES = { bundle: 'dist/bundle/main.js', unbundled: 'dist/main.js' } as const;

async function startOnce(entry: string): Promise<{ wallMs: number; cpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'oms-start-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawnTracked(process.execPath, [join(ROOT, entry)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, HOST: '127.0.0.1', PORT: String(port), EMBEDDED_MQTT_PORT: String(await freePort()), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(10);
    }
    return { wallMs: performance.now() - started, cpuMs: cpuMs(child.pid!) ?? Number.NaN };
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

runBench('start', async () => {
  const results: Record<keyof typeof ENTRIES, Array<{ wallMs: number; cpuMs: number }>> = { bundle: [], unbundled: [] };
  console.log(`load average at start ${loadavg()[0]?.toFixed(2)}; ${RUNS} runs per entry, alternated`);
  for (let i = 0; i < RUNS; i++) {
    for (const name of Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>) results[name].push(await startOnce(ENTRIES[name]));
  }
  console.log('| entry | wall ms to /healthz, median (min–max) | CPU ms at ready (all threads), median (min–max) |');
  console.log('| --- | --: | --: |');
  for (const [name, rs] of Object.entries(results)) {
    const w = rs.map((r) => r.wallMs);
    const c = rs.map((r) => r.cpuMs);
    console.log(`| ${name} (${ENTRIES[name as keyof typeof ENTRIES]}) | ${median(w).toFixed(0)} (${Math.min(...w).toFixed(0)}–${Math.max(...w).toFixed(0)}) | ${median(c).toFixed(0)} (${Math.min(...c).toFixed(0)}–${Math.max(...c).toFixed(0)}) |`);
  }
  console.log(`load average at end ${loadavg()[0]?.toFixed(2)}`);
});
