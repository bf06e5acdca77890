/**
 * CPU per telegram in steady runs: the bridge on the Lobaro path (fake Lobaro in its own process,
 * BENCH_LOBARO_MS per answer, N_WORKERS=32, real Mosquitto) at fixed offered rates below its ceiling,
 * so every telegram is parsed and published within the step; and, in the same minutes, a bare Fastify
 * 202 route at the same rates. The ratio says how much of the bridge's cost is its own work and how
 * much is what any HTTP server pays on this machine per request (epoll wake-ups, syscalls).
 *
 * Per step: the bridge's CPU (all threads, /proc) over the step plus the time its queue and outbox
 * need to empty afterwards, divided by the telegrams of the step; the bare route's CPU over the step.
 *
 * Run: npx tsx bench/cpu-rate.ts
 * Env: BENCH_RATES=300,600,900  BENCH_STEP_S=6  BENCH_LOBARO_MS=20  BENCH_PARSER=lobaro|local
 *      BENCH_SKIP_BUILD=1  BENCH_BRIDGE_ENV='{"K":"V"}'  BENCH_MQTT=system|private|embedded
 */
import { join } from 'node:path';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import { banner, BENCH_DIR, cpuMs, envNum, envNums, freePort, onCleanup, portOpen, runBench, spawnTracked, stopChild, systemInfo, waitUntil } from './lib/common.js';
import { LoadTarget, runFixedRate } from './lib/load.js';
import { startLobaroProcess } from './lib/lobaro.js';
import { ratio, table, writeResults } from './lib/stats.js';
import { TelegramSource } from './lib/telegram.js';

const RATES = envNums('BENCH_RATES', [300, 600, 900]);
const STEP_S = envNum('BENCH_STEP_S', 6);
const LOBARO_MS = envNum('BENCH_LOBARO_MS', 20);
const PARSER = process.env.BENCH_PARSER === 'local' ? 'local' : 'lobaro';
const CONNECTIONS = 32;

interface Step {
  rate: number;
  accepted: number;
  /** Bridge CPU ms per accepted telegram, step + drain. */
  bridgeMs: number | null;
  /** Bare route CPU ms per request over its step. */
  bareMs: number | null;
  drainMs: number;
}

runBench('cpu-rate', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await chooseBroker(true);
  const lobaro = PARSER === 'lobaro' ? await startLobaroProcess(LOBARO_MS) : undefined;
  const basePort = await freePort();
  const bare = spawnTracked(process.execPath, [join(BENCH_DIR, 'lib/baseline-server.mjs'), String(basePort)], { stdio: ['ignore', 'ignore', 'inherit'] });
  onCleanup(() => stopChild(bare).then(() => undefined));
  if (!(await waitUntil(() => portOpen(basePort, 200), 15_000))) throw new Error('baseline server did not start');
  const env: Record<string, string> = lobaro
    ? { PARSER: 'lobaro', LOBARO_TOKEN: 'bench', LOBARO_BASE_URL: lobaro.url, N_WORKERS: '32', ...broker.bridgeEnv }
    : { PARSER: 'local', N_WORKERS: '8', ...broker.bridgeEnv };
  const bridge = await BridgeProcess.start({ label: 'bridge', env });
  onCleanup(() => bridge.stop());
  banner('CPU per telegram at fixed rates: bridge vs. bare route', info, {
    broker: broker.description,
    path: lobaro ? `PARSER=lobaro, fake Lobaro in its own process answering in ${LOBARO_MS} ms, N_WORKERS=32` : 'PARSER=local, N_WORKERS=8',
    load: `open loop ${RATES.join(', ')} req/s for ${STEP_S} s each, ${CONNECTIONS} connections; bridge CPU counted until its queue and outbox are empty`,
  });

  const source = new TelegramSource();
  const makeBody = (): string => source.body('gw-cpu');
  const bridgeTarget = new LoadTarget([bridge.url], API_KEY, CONNECTIONS);
  const bareTarget = new LoadTarget([`http://127.0.0.1:${basePort}`], API_KEY, CONNECTIONS);
  onCleanup(() => Promise.all([bridgeTarget.close(), bareTarget.close()]).then(() => undefined));
  // Warm both (JIT) and let the bridge settle before the first measured step.
  await runFixedRate(bridgeTarget, 200, { durationS: 3, makeBody });
  await runFixedRate(bareTarget, 200, { durationS: 3, makeBody });
  await drained(bridge, 60_000);

  const steps: Step[] = [];
  for (const rate of RATES) {
    const pid = bridge.proc.pid ?? -1;
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    const r = await runFixedRate(bridgeTarget, rate, { durationS: STEP_S, makeBody });
    const sentEnd = performance.now();
    const ok = await drained(bridge, 60_000);
    const cpu1 = cpuMs(pid);
    const drainMs = performance.now() - sentEnd;
    const bare0 = cpuMs(bare.pid ?? -1);
    await runFixedRate(bareTarget, rate, { durationS: STEP_S, makeBody });
    const bare1 = cpuMs(bare.pid ?? -1);
    const step: Step = {
      rate,
      accepted: r.accepted,
      bridgeMs: ok && cpu0 !== null && cpu1 !== null && r.accepted > 0 ? (cpu1 - cpu0) / r.accepted : null,
      bareMs: bare0 !== null && bare1 !== null ? (bare1 - bare0) / (rate * STEP_S) : null,
      drainMs,
    };
    steps.push(step);
    console.log(`  ${rate}/s: bridge ${fmt(step.bridgeMs)} ms/telegram (${r.accepted} accepted, drained ${(drainMs / 1000).toFixed(1)} s after the step, ${((performance.now() - t0) / 1000).toFixed(1)} s in all), bare route ${fmt(step.bareMs)} ms/request`);
  }

  console.log('\nCPU per telegram (bridge: all threads, step + drain; bare route: same rate, next seconds):\n');
  console.log(table(['offered/s', 'accepted', 'bridge ms/telegram', 'bare route ms/request', 'ratio'],
    steps.map((s) => [s.rate, s.accepted, fmt(s.bridgeMs), fmt(s.bareMs), ratio(s.bridgeMs, s.bareMs)])));
  const file = writeResults('cpu-rate', { benchmark: 'cpu-rate', system: info, broker: broker.kind, config: { RATES, STEP_S, LOBARO_MS, PARSER }, steps });
  console.log(`\nresults: ${file}`);
});

/** Waits until the bridge's queue and outbox are empty (every accepted telegram parsed and published). */
async function drained(bridge: BridgeProcess, timeoutMs: number): Promise<boolean> {
  return waitUntil(async () => {
    const h = await bridge.health().catch(() => null);
    return h !== null && h.queue.depth === 0 && h.outbox.depth === 0;
  }, timeoutMs, 50);
}

function fmt(x: number | null): string {
  return x === null ? '–' : x.toFixed(3);
}
