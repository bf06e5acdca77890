/**
 * ACK latency while the pipeline is saturated: the situation after an outage,
 * when a backlog drains and gateways keep sending. For each parser path:
 * 0. warm start: 1,000 req/s for the first 3 s after /healthz first answers, and the same
 *    against a bare route started just before on the idle machine (cold process, new connections)
 *    as its baseline.
 *    A throwaway bridge takes the same load for 2 s first, so that the load driver, the fake
 *    Lobaro and the broker are warm and only the measured processes start cold;
 * 1. a backlog of BENCH_BACKLOG telegrams is posted as fast as the bridge takes them;
 * 2. while it drains (queue depth > 0, checked before and after each step), open-loop
 *    load at BENCH_RATES hits the bridge, and the same load hits a bare Fastify route
 *    in the same seconds (the baseline shares the machine with the draining bridge);
 * 3. the drain completes: end-to-end telegrams/s over the whole backlog, bridge CPU ms
 *    per telegram (all CPU of the bridge process from the first POST to idle / telegrams
 *    accepted), peak RSS, peak size of the SQLite WAL file.
 * Lobaro path: PARSER=lobaro, N_WORKERS=32, fake Lobaro answering in BENCH_LOBARO_MS (5).
 * Local path: PARSER=local (built-in decoder), default N_WORKERS.
 *
 * Run: npx tsx bench/busy.ts
 * Env: BENCH_BACKLOG=60000  BENCH_RATES=2000,5000  BENCH_STEP_S=5  BENCH_LOBARO_MS=5
 *      BENCH_PATHS=lobaro,local  BENCH_MQTT=system|private|embedded  BENCH_SKIP_BUILD=1
 *      BENCH_CPU_PROF=1 (a V8 profile per bridge thread; top self time printed)
 *      BENCH_LOBARO=inline (fake Lobaro in this process, as before 2026-12-03; default: its own process)
 */
import { join } from 'node:path';
import { startBareRoute } from './lib/bare-route.js';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import { startDelayedLobaro, startLobaroProcess } from './lib/lobaro.js';
import {
  banner, RESULTS_DIR, cpuMs, CpuMeter, envNum, envNums, onCleanup, runBench, sleep, systemInfo,
} from './lib/common.js';
import { LoadTarget, runFixedRate, runSaturation, type LoadResult } from './lib/load.js';
import { printProfile, summarizeProfile } from './lib/profile.js';
import { ms, pct, rate, ratio, table, writeResults } from './lib/stats.js';
import { TelegramSource } from './lib/telegram.js';

const BACKLOG = envNum('BENCH_BACKLOG', 60_000);
const RATES = envNums('BENCH_RATES', [2000, 5000]);
const STEP_S = envNum('BENCH_STEP_S', 5);
const LOBARO_MS = envNum('BENCH_LOBARO_MS', 5);
const PATHS = (process.env.BENCH_PATHS ?? 'lobaro,local').split(',').filter((p): p is 'lobaro' | 'local' => p === 'lobaro' || p === 'local');
const CONNECTIONS = 64;
const PROFILE = process.env.BENCH_CPU_PROF === '1';
// The fake Lobaro in its own process (default) or in the load generator's event loop (the harness before 2026-12-03).
const LOBARO_INLINE = process.env.BENCH_LOBARO === 'inline';

interface Step {
  path: string;
  rate: number;
  server: 'bridge' | 'baseline';
  queueBefore: number;
  queueAfter: number;
  result: Omit<LoadResult, 'ids'>;
  cpuPct: number | null;
  /** The warm-start step right after start (no baseline pairing). */
  warm?: boolean;
}

interface Drain {
  path: string;
  telegrams: number;
  seconds: number;
  perS: number;
  cpuMsPerTelegram: number | null;
  peakRssMb: number;
  peakWalMb: number;
}

/** Runs the harness (driver, fake Lobaro, broker) warm against a throwaway bridge; their JIT warm-up is not the bridge's. */
async function warmHarness(path: string, env: Record<string, string>): Promise<void> {
  const bridge = await BridgeProcess.start({ label: `${path}-harness-warm-up`, env });
  const target = new LoadTarget([bridge.url], API_KEY, CONNECTIONS);
  const telegrams = new TelegramSource();
  await runFixedRate(target, 1000, { durationS: 2, makeBody: () => telegrams.body('bench-busy-warm-up') });
  await bridge.waitIdle(60_000);
  await target.close();
  await bridge.stop();
}

runBench('busy', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await chooseBroker(true);
  const { url: lobaroUrl } = LOBARO_INLINE ? await startDelayedLobaro(() => LOBARO_MS) : await startLobaroProcess(LOBARO_MS);

  const bare = await startBareRoute();
  const baseline = new LoadTarget([bare.url], API_KEY, CONNECTIONS);
  onCleanup(() => baseline.close());

  banner('ACK latency while the pipeline drains a backlog', info, {
    broker: broker.description,
    lobaro: `fake Lobaro ${LOBARO_INLINE ? 'in this process' : 'in its own process'}, ${LOBARO_MS} ms per answer; PARSER=lobaro N_WORKERS=32`,
    local: 'PARSER=local (built-in decoder), N_WORKERS default',
    load: `backlog ${BACKLOG} (closed loop, ${CONNECTIONS} connections), then open loop ${RATES.join(', ')} req/s for ${STEP_S} s each against the bridge and the bare route while the backlog drains`,
  });

  const steps: Step[] = [];
  const drains: Drain[] = [];
  for (const path of PATHS) {
    const env: Record<string, string> = path === 'lobaro'
      ? { PARSER: 'lobaro', LOBARO_TOKEN: 'bench', LOBARO_BASE_URL: lobaroUrl, N_WORKERS: '32', ...broker.bridgeEnv }
      : { PARSER: 'local', ...broker.bridgeEnv };
    const profDir = PROFILE ? join(RESULTS_DIR, `prof-busy-${path}-${Date.now()}`) : undefined;
    await warmHarness(path, env);
    const telegrams = new TelegramSource();
    const gatewayId = `bench-busy-${path}`;
    const makeBody = (): string => telegrams.body(gatewayId);
    {
      // What a cold process and new connections cost on this machine (idle, harness warm): the warm start's baseline.
      const coldBare = await startBareRoute();
      const coldTarget = new LoadTarget([coldBare.url], API_KEY, CONNECTIONS);
      const { ids: _ids, ...rest } = await runFixedRate(coldTarget, 1000, { durationS: 3, makeBody });
      await coldTarget.close();
      steps.push({ path, rate: 1000, server: 'baseline', queueBefore: 0, queueAfter: 0, result: rest, cpuPct: null, warm: true });
      console.log(`  ${path.padEnd(6)} bare route, first 3 s after start, 1000/s: p50 ${ms(rest.latency.p50)}  p99 ${ms(rest.latency.p99)}  max ${ms(rest.latency.max)} ms`);
    }
    const bridge = await BridgeProcess.start({ label: path, env, cpuProfDir: profDir });
    const target = new LoadTarget([bridge.url], API_KEY, CONNECTIONS);
    const cpuStart = cpuMs(bridge.pid);
    let peakRssKb = bridge.rssKb() ?? 0;
    let peakWal = 0;
    const rssTimer = setInterval(() => {
      peakRssKb = Math.max(peakRssKb, bridge.rssKb() ?? 0);
      peakWal = Math.max(peakWal, bridge.walBytes());
    }, 200);
    const t0 = performance.now();
    const warm = await runFixedRate(target, 1000, { durationS: 3, makeBody });
    {
      const { ids: _ids, ...rest } = warm;
      steps.push({ path, rate: 1000, server: 'bridge', queueBefore: 0, queueAfter: (await bridge.health()).queue.depth, result: rest, cpuPct: null, warm: true });
    }
    console.log(`  ${path.padEnd(6)} first 3 s after start, 1000/s: p50 ${ms(warm.latency.p50)}  p99 ${ms(warm.latency.p99)}  max ${ms(warm.latency.max)} ms  202: ${warm.accepted}/${warm.sent}`);
    let backlog = warm.accepted;
    // The backlog: as fast as the bridge accepts.
    while (backlog < BACKLOG) {
      const r = await runSaturation(target, CONNECTIONS, { durationS: 1, makeBody });
      backlog += r.accepted;
    }
    console.log(`${path}: backlog of ${backlog} accepted in ${((performance.now() - t0) / 1000).toFixed(1)} s; queue ${(await bridge.health()).queue.depth}`);
    for (const r of RATES) {
      for (const server of ['baseline', 'bridge'] as const) {
        const queueBefore = (await bridge.health()).queue.depth;
        const cpu = new CpuMeter(server === 'bridge' ? bridge.pid : bare.pid);
        const result = await runFixedRate(server === 'bridge' ? target : baseline, r, { durationS: STEP_S, makeBody, tailTimeoutMs: 30_000 });
        const cpuPct = cpu.read();
        const queueAfter = (await bridge.health()).queue.depth;
        if (server === 'bridge') backlog += result.accepted;
        const { ids: _ids, ...rest } = result;
        steps.push({ path, rate: r, server, queueBefore, queueAfter, result: rest, cpuPct });
        console.log(`  ${path.padEnd(6)} ${String(r).padStart(5)}/s ${server.padEnd(8)} p50 ${ms(result.latency.p50)}  p99 ${ms(result.latency.p99)}  max ${ms(result.latency.max)} ms  p99 of all answers ${ms(result.latencyAnswered.p99)} ms  answered ${result.sent - result.failed}/${result.sent} (202: ${result.accepted}, 503: ${result.statuses['503'] ?? 0})  queue ${queueBefore} → ${queueAfter}  cpu ${pct(cpuPct)}`);
      }
    }
    const idleMs = await bridge.waitIdle(600_000);
    clearInterval(rssTimer);
    const seconds = (performance.now() - t0) / 1000;
    const cpuEnd = cpuMs(bridge.pid);
    const d: Drain = {
      path, telegrams: backlog, seconds, perS: backlog / seconds,
      cpuMsPerTelegram: cpuStart !== null && cpuEnd !== null ? (cpuEnd - cpuStart) / backlog : null,
      peakRssMb: peakRssKb / 1024,
      peakWalMb: peakWal / 1e6,
    };
    drains.push(d);
    console.log(`${path}: ${backlog} telegrams accepted and published in ${seconds.toFixed(1)} s (${rate(d.perS)}/s end to end, idle ${idleMs === null ? 'not reached' : 'reached'}); CPU ${d.cpuMsPerTelegram?.toFixed(3) ?? '-'} ms/telegram; peak RSS ${d.peakRssMb.toFixed(0)} MB; peak WAL ${d.peakWalMb.toFixed(0)} MB`);
    await target.close();
    await bridge.stop();
    for (const p of bridge.profiles()) printProfile(summarizeProfile(p, 30), 15);
    await sleep(500);
  }

  console.log('\nACK latency while the backlog drains (latency from hand-over to the pool to the end of the answer):\n');
  console.log(table(
    ['path', 'offered/s', 'bridge p50', 'bridge p99', 'bridge max', 'answered', '202', '503', 'p99 all answers', 'queue before → after', 'bare p99', 'p99 ratio'],
    steps.filter((s) => s.server === 'bridge' && !s.warm).map((b) => {
      const base = steps.find((s) => s.server === 'baseline' && !s.warm && s.path === b.path && s.rate === b.rate)!;
      return [b.path, rate(b.rate), ms(b.result.latency.p50), ms(b.result.latency.p99), ms(b.result.latency.max),
        `${b.result.sent - b.result.failed}/${b.result.sent}`, String(b.result.accepted), String(b.result.statuses['503'] ?? 0), ms(b.result.latencyAnswered.p99),
        `${b.queueBefore} → ${b.queueAfter}`,
        ms(base.result.latency.p99), ratio(b.result.latency.p99, base.result.latency.p99)];
    }),
  ));
  console.log('\nWarm start (first 3 s after /healthz answers, 1,000 req/s; bare route: a process started just before on the idle machine, cold like the bridge):\n');
  console.log(table(['path', 'p50', 'p99', 'max', '202', 'cold bare p50', 'cold bare p99', 'p99 ratio'], steps.filter((s) => s.warm && s.server === 'bridge').map((s) => {
    const base = steps.find((b) => b.warm && b.server === 'baseline' && b.path === s.path)!;
    return [s.path, ms(s.result.latency.p50), ms(s.result.latency.p99), ms(s.result.latency.max), `${s.result.accepted}/${s.result.sent}`,
      ms(base.result.latency.p50), ms(base.result.latency.p99), ratio(s.result.latency.p99, base.result.latency.p99)];
  })));
  console.log('\nWhole run per path (backlog + steps, until queue and outbox are empty):\n');
  console.log(table(['path', 'telegrams', 'seconds', 'end-to-end /s', 'CPU ms/telegram', 'peak RSS MB', 'peak WAL MB'],
    drains.map((d) => [d.path, String(d.telegrams), d.seconds.toFixed(1), rate(d.perS), d.cpuMsPerTelegram?.toFixed(3) ?? '-', d.peakRssMb.toFixed(0), d.peakWalMb.toFixed(0)])));
  const file = writeResults('busy', { benchmark: 'busy', system: info, broker: broker.kind, config: { BACKLOG, RATES, STEP_S, LOBARO_MS }, steps, drains });
  console.log(`\nresults: ${file}`);
});
