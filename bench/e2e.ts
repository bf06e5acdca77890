/**
 * End-to-end benchmark: telegrams/s and latency from POST /v1/telegrams to the
 * reading arriving at an MQTT subscriber (matched by ingest_id), with the fake
 * Lobaro at 20 ms and 200 ms latency (PARSER=lobaro, N_WORKERS=64) and with
 * the built-in decoder (PARSER=local).
 *
 * Each scenario has two phases:
 * - throughput: an open-loop burst above what the bridge can do (or up to
 *   BENCH_MAX_RATE), then the readings/s between the 10th and 90th percentile
 *   arrival ("steady") and over the whole span ("overall");
 * - latency: an open-loop rate the bridge can sustain, e2e p50/p99.
 * Baselines in the same run: the fake Lobaro's own rate with 64 concurrent
 * direct requests (the ceiling for N_WORKERS=64), and the decoder's rate on
 * one core for PARSER=local.
 *
 * Run: npx tsx bench/e2e.ts   (npm run bench:e2e)
 * Env: BENCH_LOBARO_DELAYS_MS=20,200  BENCH_N_WORKERS=64  BENCH_THROUGHPUT_S=8
 *      BENCH_LATENCY_S=8  BENCH_MAX_RATE=2500  BENCH_BASELINE_S=5
 *      BENCH_DRAIN_TIMEOUT_S=60  BENCH_SKIP_LOCAL=1  BENCH_SKIP_LOBARO=1  BENCH_MQTT=…  BENCH_CPU_PROF=1
 */
import { join } from 'node:path';
import { Pool } from 'undici';
import { decode } from '../src/wmbus/index.js';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker, type BrokerChoice } from './lib/broker.js';
import { banner, cpuPressure, CpuMeter, envNum, envNums, onCleanup, RESULTS_DIR, runBench, systemInfo } from './lib/common.js';
import { LoadTarget, runFixedRate } from './lib/load.js';
import { startDelayedLobaro } from './lib/lobaro.js';
import { printProfile, summarizeProfile, type ProfileSummary } from './lib/profile.js';
import { ms, pct, rate, ratio, rounded, table, writeResults } from './lib/stats.js';
import { ArrivalRecorder, e2eSummary, type E2eSummary } from './lib/subscriber.js';
import { telegramHex, TelegramSource } from './lib/telegram.js';

// BENCH_SKIP_LOBARO=1 runs only the built-in decoder.
const DELAYS = process.env.BENCH_SKIP_LOBARO === '1' ? [] : envNums('BENCH_LOBARO_DELAYS_MS', [20, 200]);
const WORKERS = envNum('BENCH_N_WORKERS', 64);
const THROUGHPUT_S = envNum('BENCH_THROUGHPUT_S', 8);
const LATENCY_S = envNum('BENCH_LATENCY_S', 8);
const MAX_RATE = envNum('BENCH_MAX_RATE', 2500);
const BASELINE_S = envNum('BENCH_BASELINE_S', 5);
const DRAIN_TIMEOUT_S = envNum('BENCH_DRAIN_TIMEOUT_S', 60);
const SKIP_LOCAL = process.env.BENCH_SKIP_LOCAL === '1';
const PROFILE = process.env.BENCH_CPU_PROF === '1';
/** Brief: with N_WORKERS=64 and 200 ms, ≥ 90% of 64/0.2 s. */
const TARGET_SHARE = 0.9;

interface Phase {
  offeredRate: number;
  accepted: number;
  non202: number;
  ackP99Ms: number;
  e2e: E2eSummary;
  bridgeCpuPct: number | null;
  benchCpuPct: number;
}

interface Scenario {
  name: string;
  parser: 'lobaro' | 'local';
  lobaroDelayMs: number | null;
  /** N_WORKERS / delay: what the worker pool could do with zero overhead. */
  idealPerS: number | null;
  baselinePerS: number;
  baselineLabel: string;
  throughput: Phase;
  latency: Phase;
}

/** Closed loop: 64 concurrent POSTs straight at the fake Lobaro; its answers/s. */
async function lobaroBaseline(url: string, concurrency: number, seconds: number): Promise<number> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const res = await pool.request({
        method: 'POST', path: `/api/meterData?raw=${telegramHex(n)}`,
        headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: '{}',
      });
      await res.body.dump();
      n++;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  await pool.close();
  return n / s;
}

/** The built-in decoder on this telegram, one core, decodes/s. */
function decodeBaseline(seconds: number): number {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) decode(telegramHex(n++), {});
  }
  return n / ((performance.now() - t0) / 1000);
}

async function phase(bridge: BridgeProcess, broker: BrokerChoice, telegrams: TelegramSource, offeredRate: number, seconds: number, label: string): Promise<Phase> {
  const gatewayId = `bench-e2e-${label}-${Math.random().toString(36).slice(2, 8)}`;
  const rec = await ArrivalRecorder.connect(broker.url, gatewayId);
  const target = new LoadTarget([bridge.url], API_KEY, 64);
  const bridgeCpu = new CpuMeter(bridge.pid);
  const benchCpu = process.cpuUsage();
  const t0 = performance.now();
  try {
    const r = await runFixedRate(target, offeredRate, { durationS: seconds, makeBody: () => telegrams.body(gatewayId), captureIds: true });
    const ids = r.ids ?? new Map<string, number>();
    const complete = await rec.waitAll(ids.keys(), DRAIN_TIMEOUT_S * 1000);
    const bridgeCpuPct = bridgeCpu.read();
    const used = process.cpuUsage(benchCpu);
    const benchCpuPct = (100 * (used.user + used.system) / 1000) / (performance.now() - t0);
    const e2e = e2eSummary(ids, rec);
    if (!complete) console.log(`  ${label}: ${e2e.missing} readings missing after ${DRAIN_TIMEOUT_S} s`);
    await bridge.waitIdle(DRAIN_TIMEOUT_S * 1000);
    return { offeredRate, accepted: r.accepted, non202: r.sent - r.accepted, ackP99Ms: r.latency.p99, e2e, bridgeCpuPct, benchCpuPct };
  } finally {
    await target.close();
    await rec.close();
  }
}

function show(s: Scenario, p: Phase, kind: string): void {
  console.log(`  ${s.name.padEnd(13)} ${kind.padEnd(10)} offered ${rate(p.offeredRate).padStart(5)}/s  arrived ${p.e2e.arrived}/${p.accepted}  steady ${rate(p.e2e.steadyPerS)}/s  overall ${rate(p.e2e.overallPerS)}/s  e2e p50 ${ms(p.e2e.latency.p50)} ms  p99 ${ms(p.e2e.latency.p99)} ms  bridge cpu ${pct(p.bridgeCpuPct)}`);
}

runBench('e2e', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await chooseBroker(true);
  let delayMs = DELAYS[0] ?? 20;
  const { url: lobaroUrl } = await startDelayedLobaro(() => delayMs);

  banner('End to end: POST → reading on MQTT', info, {
    broker: broker.description,
    bridge: `node .bench-build/main.js, SQLite in a temp dir, N_WORKERS=${WORKERS}, LOG_LEVEL=warn; fake Lobaro (test/helpers/fake-lobaro.ts) in the benchmark process`,
    phases: `throughput: open loop at min(1.5 × N_WORKERS/delay, ${MAX_RATE}) req/s for ${THROUGHPUT_S} s; latency: open loop at min(0.7 × N_WORKERS/delay, 500) req/s for ${LATENCY_S} s`,
  });

  const scenarios: Scenario[] = [];
  const profiles: ProfileSummary[] = [];
  const stopBridge = async (b: BridgeProcess): Promise<void> => {
    await b.stop();
    for (const p of b.profiles()) profiles.push(summarizeProfile(p, 30));
  };

  if (DELAYS.length > 0) {
    const profDir = PROFILE ? join(RESULTS_DIR, `prof-e2e-lobaro-${Date.now()}`) : undefined;
    const bridge = await BridgeProcess.start({
      label: 'lobaro', cpuProfDir: profDir,
      env: { PARSER: 'lobaro', LOBARO_TOKEN: 'x', LOBARO_BASE_URL: lobaroUrl, N_WORKERS: String(WORKERS), ...broker.bridgeEnv },
    });
    onCleanup(() => bridge.stop());
    const telegrams = new TelegramSource();
    for (const d of DELAYS) {
      delayMs = d;
      const name = `lobaro ${d} ms`;
      const baselinePerS = await lobaroBaseline(lobaroUrl, WORKERS, BASELINE_S);
      console.log(`  ${name.padEnd(13)} baseline   fake Lobaro alone, ${WORKERS} concurrent: ${rate(baselinePerS)}/s`);
      const ideal = WORKERS / (d / 1000);
      await phase(bridge, broker, telegrams, Math.min(200, ideal / 2), 1, 'warmup');
      const s: Scenario = {
        name, parser: 'lobaro', lobaroDelayMs: d, idealPerS: ideal, baselinePerS, baselineLabel: `fake Lobaro, ${WORKERS} concurrent direct`,
        throughput: await phase(bridge, broker, telegrams, Math.round(Math.min(1.5 * ideal, MAX_RATE)), THROUGHPUT_S, `l${d}-thr`),
        latency: undefined as unknown as Phase,
      };
      show(s, s.throughput, 'throughput');
      s.latency = await phase(bridge, broker, telegrams, Math.round(Math.min(0.7 * ideal, 500)), LATENCY_S, `l${d}-lat`);
      show(s, s.latency, 'latency');
      scenarios.push(s);
    }
    await stopBridge(bridge);
  }

  if (!SKIP_LOCAL) {
    const profDir = PROFILE ? join(RESULTS_DIR, `prof-e2e-local-${Date.now()}`) : undefined;
    const bridge = await BridgeProcess.start({ label: 'local', cpuProfDir: profDir, env: { PARSER: 'local', N_WORKERS: String(WORKERS), ...broker.bridgeEnv } });
    onCleanup(() => bridge.stop());
    const telegrams = new TelegramSource();
    const baselinePerS = decodeBaseline(2);
    console.log(`  ${'local'.padEnd(13)} baseline   decode() alone, one core: ${rate(baselinePerS)}/s`);
    await phase(bridge, broker, telegrams, 200, 1, 'warmup');
    const s: Scenario = {
      name: 'local decoder', parser: 'local', lobaroDelayMs: null, idealPerS: null, baselinePerS, baselineLabel: 'decode() on one core',
      throughput: await phase(bridge, broker, telegrams, MAX_RATE, THROUGHPUT_S, 'local-thr'),
      latency: undefined as unknown as Phase,
    };
    show(s, s.throughput, 'throughput');
    s.latency = await phase(bridge, broker, telegrams, 500, LATENCY_S, 'local-lat');
    show(s, s.latency, 'latency');
    scenarios.push(s);
    await stopBridge(bridge);
  }

  console.log('\nThroughput (readings/s at the subscriber; steady = between the 10th and 90th percentile arrival; ratio = bridge steady / baseline):\n');
  console.log(table(
    ['scenario', 'offered/s', 'steady/s', 'overall/s', 'baseline/s', 'ratio', 'ideal/s', 'vs ideal', 'missing', 'dup', 'bridge CPU', 'bench CPU'],
    scenarios.map((s) => [
      s.name, rate(s.throughput.offeredRate), rate(s.throughput.e2e.steadyPerS), rate(s.throughput.e2e.overallPerS), rate(s.baselinePerS),
      ratio(s.throughput.e2e.steadyPerS, s.baselinePerS), rate(s.idealPerS), s.idealPerS ? pct((100 * s.throughput.e2e.steadyPerS) / s.idealPerS) : '-',
      String(s.throughput.e2e.missing), String(s.throughput.e2e.duplicates), pct(s.throughput.bridgeCpuPct), pct(s.throughput.benchCpuPct),
    ]),
  ));
  console.log('\nLatency at a sustainable rate (POST hand-over → reading at the subscriber; ACK = the 202):\n');
  console.log(table(
    ['scenario', 'offered/s', 'e2e p50 ms', 'e2e p99 ms', 'e2e max ms', 'minus Lobaro delay p50', 'ACK p99 ms', 'missing', 'bridge CPU'],
    scenarios.map((s) => [
      s.name, rate(s.latency.offeredRate), ms(s.latency.e2e.latency.p50), ms(s.latency.e2e.latency.p99), ms(s.latency.e2e.latency.max),
      s.lobaroDelayMs === null ? '-' : ms(s.latency.e2e.latency.p50 - s.lobaroDelayMs), ms(s.latency.ackP99Ms), String(s.latency.e2e.missing), pct(s.latency.bridgeCpuPct),
    ]),
  ));

  const verdicts = scenarios.filter((s) => s.lobaroDelayMs === 200 && WORKERS === 64).map((s) => {
    const target = TARGET_SHARE * (s.idealPerS ?? 0);
    const ok = s.throughput.e2e.steadyPerS >= target;
    console.log(`\ntarget: N_WORKERS=64, Lobaro 200 ms: ≥ ${rate(target)} telegrams/s (90% of ${rate(s.idealPerS)}); measured ${rate(s.throughput.e2e.steadyPerS)}/s steady → ${ok ? 'ok' : 'MISSED'}`);
    return { check: 'e2e telegrams/s, N_WORKERS=64, Lobaro 200 ms', value: s.throughput.e2e.steadyPerS, target, ok };
  });
  for (const p of profiles) printProfile(p, 20);

  const path = writeResults('e2e', {
    benchmark: 'e2e', system: info, broker: broker.kind, brokerDescription: broker.description,
    config: { delaysMs: DELAYS, workers: WORKERS, throughputS: THROUGHPUT_S, latencyS: LATENCY_S, maxRate: MAX_RATE },
    scenarios: scenarios.map((s) => ({
      ...s,
      throughput: { ...s.throughput, e2e: { ...s.throughput.e2e, latency: rounded(s.throughput.e2e.latency) } },
      latency: { ...s.latency, e2e: { ...s.latency.e2e, latency: rounded(s.latency.e2e.latency) } },
    })),
    verdicts, profiles,
    cpuPressureAvg60AtEnd: cpuPressure(),
  });
  console.log(`\nresults: ${path}`);
});
