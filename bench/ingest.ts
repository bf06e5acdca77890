/**
 * Ingest benchmark: ACK latency and accepted/s of POST /v1/telegrams at fixed
 * offered rates and at saturation, bridge vs. a bare Fastify route (baseline),
 * both in their own child process, measured interleaved in the same run.
 *
 * Run: npx tsx bench/ingest.ts   (npm run bench:ingest)
 * Env: BENCH_RATES=500,2000,5000  BENCH_DURATION_S=10  BENCH_CONNECTIONS=50
 *      BENCH_WARMUP_S=2  BENCH_SETTLE_TIMEOUT_S=90  BENCH_MQTT=system|private|embedded
 *      BENCH_CPU_PROF=1 (profile the bridge, print top self time)  BENCH_SKIP_BUILD=1
 */
import { join } from 'node:path';
import { startBareRoute } from './lib/bare-route.js';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import {
  banner, CpuMeter, cpuPressure, envNum, envNums, onCleanup, RESULTS_DIR, runBench, systemInfo, writeBytes,
} from './lib/common.js';
import { LoadTarget, runFixedRate, runSaturation, type LoadResult } from './lib/load.js';
import { printProfile, summarizeProfile } from './lib/profile.js';
import { ms, pct, rate, ratio, rounded, table, writeResults } from './lib/stats.js';
import { TelegramSource } from './lib/telegram.js';

const RATES = envNums('BENCH_RATES', [500, 2000, 5000]);
const DURATION_S = envNum('BENCH_DURATION_S', 10);
const CONNECTIONS = envNum('BENCH_CONNECTIONS', 50);
const WARMUP_S = envNum('BENCH_WARMUP_S', 2);
const SETTLE_TIMEOUT_S = envNum('BENCH_SETTLE_TIMEOUT_S', 90);
const PROFILE = process.env.BENCH_CPU_PROF === '1';

/** Targets from the brief. */
const P99_TARGET_MS = 5;
const P99_TARGET_RATE = 2000;
const SATURATION_TARGET = 0.5;

interface Server {
  name: 'baseline' | 'bridge';
  pid: number;
  target: LoadTarget;
}

interface StepResult {
  load: string;
  server: Server['name'];
  result: Omit<LoadResult, 'ids'>;
  /** Server process CPU during the step, % of one core. */
  serverCpuPct: number | null;
  /** Bridge only: time until queue and outbox were empty again after the step, ms (null: not within the timeout). */
  settleMs: number | null;
  /** Bridge only: bytes written to storage per accepted telegram, step and settle (/proc/<pid>/io write_bytes). */
  diskBytesPerTelegram: number | null;
}

runBench('ingest', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await chooseBroker(true);

  const bare = await startBareRoute();

  const profDir = PROFILE ? join(RESULTS_DIR, `prof-ingest-${Date.now()}`) : undefined;
  const bridge = await BridgeProcess.start({ label: 'bridge', env: { PARSER: 'local', ...broker.bridgeEnv }, cpuProfDir: profDir });
  onCleanup(() => bridge.stop());

  banner('Ingest: POST /v1/telegrams ACK latency and accepted/s', info, {
    broker: broker.description,
    bridge: `node .bench-build/main.js, SQLite in a temp dir, PARSER=local, N_WORKERS=8 (default), LOG_LEVEL=warn, QUEUE_MAX=OUTBOX_MAX=10,000,000`,
    baseline: 'bare Fastify POST route answering 202 (bench/lib/baseline-server.mjs)',
    load: `open loop at ${RATES.join(', ')} req/s for ${DURATION_S} s each, then closed loop with ${CONNECTIONS} keep-alive connections for ${DURATION_S} s; ${CONNECTIONS} connections per server`,
  });

  const gatewayId = `bench-ingest-${Math.random().toString(36).slice(2, 8)}`;
  const telegrams = new TelegramSource();
  const makeBody = (): string => telegrams.body(gatewayId);
  const servers: Server[] = [
    { name: 'baseline', pid: bare.pid, target: new LoadTarget([bare.url], API_KEY, CONNECTIONS) },
    { name: 'bridge', pid: bridge.pid, target: new LoadTarget([bridge.url], API_KEY, CONNECTIONS) },
  ];
  onCleanup(async () => {
    for (const s of servers) await s.target.close();
  });

  for (const s of servers) await runFixedRate(s.target, 1000, { durationS: WARMUP_S, makeBody });
  await bridge.waitIdle(SETTLE_TIMEOUT_S * 1000);

  const steps: Array<{ load: string; rate: number | null }> = [...RATES.map((r) => ({ load: `${r} req/s`, rate: r })), { load: 'saturation', rate: null }];
  const results: StepResult[] = [];
  const idleRssKb = bridge.rssKb();
  let peakRssKb = idleRssKb ?? 0;
  for (const step of steps) {
    // Interleaved, so a burst of noise from other processes hits both sides alike.
    for (const s of servers) {
      const cpu = new CpuMeter(s.pid);
      const written = writeBytes(s.pid);
      const r = step.rate === null
        ? await runSaturation(s.target, CONNECTIONS, { durationS: DURATION_S, makeBody })
        : await runFixedRate(s.target, step.rate, { durationS: DURATION_S, makeBody });
      const serverCpuPct = cpu.read();
      let settleMs: number | null = 0;
      let diskBytesPerTelegram: number | null = null;
      if (s.name === 'bridge') {
        peakRssKb = Math.max(peakRssKb, bridge.rssKb() ?? 0);
        settleMs = await bridge.waitIdle(SETTLE_TIMEOUT_S * 1000);
        const after = writeBytes(s.pid);
        if (written !== null && after !== null && r.accepted > 0) diskBytesPerTelegram = (after - written) / r.accepted;
      }
      const { ids: _ids, ...rest } = r;
      results.push({ load: step.load, server: s.name, result: rest, serverCpuPct, settleMs, diskBytesPerTelegram });
      console.log(`  ${step.load.padEnd(12)} ${s.name.padEnd(8)} accepted ${rate(r.acceptedPerS).padStart(6)}/s  p50 ${ms(r.latency.p50)} ms  p99 ${ms(r.latency.p99)} ms  max ${ms(r.latency.max)} ms  non-202 ${r.sent - r.accepted}  cpu ${pct(serverCpuPct)}${s.name === 'bridge' ? `  settled in ${settleMs === null ? `>${SETTLE_TIMEOUT_S} s` : `${(settleMs / 1000).toFixed(1)} s`}` : ''}`);
    }
  }

  const get = (load: string, server: Server['name']): StepResult => results.find((x) => x.load === load && x.server === server)!;
  console.log('\nPer run (latency from hand-over to the connection pool to the end of the 202; "from due" adds the driver\'s scheduling lag):\n');
  console.log(table(
    ['load', 'server', 'offered/s', 'accepted/s', 'p50 ms', 'p99 ms', 'max ms', 'p99 from due', 'non-202', 'server CPU', 'settle s', 'disk kB/telegram'],
    results.map((x) => [
      x.load, x.server, x.result.offeredRate === null ? `${CONNECTIONS} conns` : rate(x.result.offeredRate), rate(x.result.acceptedPerS),
      ms(x.result.latency.p50), ms(x.result.latency.p99), ms(x.result.latency.max), ms(x.result.latencyFromDue?.p99),
      String(x.result.sent - x.result.accepted), pct(x.serverCpuPct),
      x.server === 'baseline' ? '-' : x.settleMs === null ? `>${SETTLE_TIMEOUT_S}` : (x.settleMs / 1000).toFixed(1),
      x.diskBytesPerTelegram === null ? '-' : (x.diskBytesPerTelegram / 1024).toFixed(1),
    ]),
  ));

  const verdicts: Array<{ check: string; value: string; target: string; ok: boolean }> = [];
  const summaryRows = steps.map((step) => {
    const b = get(step.load, 'bridge').result;
    const base = get(step.load, 'baseline').result;
    let target = '';
    if (step.rate === P99_TARGET_RATE) {
      const ok = b.latency.p99 <= P99_TARGET_MS;
      target = `p99 ≤ ${P99_TARGET_MS} ms: ${ok ? 'ok' : 'MISSED'}`;
      verdicts.push({ check: `p99 at ${P99_TARGET_RATE} req/s`, value: `${ms(b.latency.p99)} ms`, target: `≤ ${P99_TARGET_MS} ms`, ok });
    }
    if (step.rate === null) {
      const ok = b.acceptedPerS >= SATURATION_TARGET * base.acceptedPerS;
      target = `≥ ${SATURATION_TARGET * 100}% of baseline: ${ok ? 'ok' : 'MISSED'}`;
      verdicts.push({ check: 'saturation accepted/s vs baseline', value: ratio(b.acceptedPerS, base.acceptedPerS), target: `≥ ${SATURATION_TARGET.toFixed(2)}×`, ok });
    }
    return [step.load, rate(b.acceptedPerS), rate(base.acceptedPerS), ratio(b.acceptedPerS, base.acceptedPerS),
      ms(b.latency.p99), ms(base.latency.p99), ratio(b.latency.p99, base.latency.p99), target];
  });
  console.log('\nBridge vs. baseline (ratio = bridge / baseline):\n');
  console.log(table(['load', 'bridge acc/s', 'baseline acc/s', 'acc ratio', 'bridge p99 ms', 'baseline p99 ms', 'p99 ratio', 'target'], summaryRows));
  const pressureEnd = cpuPressure();
  console.log(`\nbridge RSS: ${((idleRssKb ?? 0) / 1024).toFixed(0)} MB after warm-up, ${(peakRssKb / 1024).toFixed(0)} MB peak seen; CPU pressure avg60 at end: ${pressureEnd ?? '-'}%`);

  await servers[1]!.target.close();
  await bridge.stop();
  const profiles = bridge.profiles();
  const profileSummaries = profiles.map((p) => summarizeProfile(p, 30));
  for (const p of profileSummaries) printProfile(p, 20);

  const path = writeResults('ingest', {
    benchmark: 'ingest', system: info, broker: broker.kind, brokerDescription: broker.description,
    config: { rates: RATES, durationS: DURATION_S, connections: CONNECTIONS, warmupS: WARMUP_S },
    steps: results.map((x) => ({ ...x, result: { ...x.result, latency: rounded(x.result.latency), latencyFromDue: x.result.latencyFromDue && rounded(x.result.latencyFromDue) } })),
    verdicts, bridgeRssKb: { afterWarmup: idleRssKb, peak: peakRssKb }, cpuPressureAvg60AtEnd: pressureEnd,
    profiles: profileSummaries,
  });
  console.log(`\nresults: ${path}`);
});
