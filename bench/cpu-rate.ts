
import { startBareRoute } from './lib/bare-route.js';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import { banner, cpuMs, envNum, envNums, onCleanup, runBench, systemInfo, waitUntil } from './lib/common.js';
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
  const bare = await startBareRoute();
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
  const bareTarget = new LoadTarget([bare.url], API_KEY, CONNECTIONS);
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
    const bare0 = cpuMs(bare.pid);
    await runFixedRate(bareTarget, rate, { durationS: STEP_S, makeBody });
    const bare1 = cpuMs(bare.pid);
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
