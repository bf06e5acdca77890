/**
 * Memory under a broker outage: the bridge against a private Mosquitto, load
 * at a fixed rate, the broker stopped for BENCH_OUTAGE_S, restarted, load for
 * a while more, then the outbox drains. Samples the bridge's RSS
 * (/proc/<pid>/status VmRSS) and /healthz every 500 ms; a subscriber with a
 * persistent session counts readings + errors (and raw messages) per
 * ingest_id, so every accepted telegram can be checked off.
 * The backlog must live in the database, not in RAM: RSS growth per queued
 * outbox message is the number to watch.
 *
 * Run: npx tsx bench/memory.ts   (npm run bench:memory)
 * Env: BENCH_OUTAGE_S=60  BENCH_RATE=1000  BENCH_PRE_S=15  BENCH_POST_S=20  BENCH_IDLE_S=5
 *      BENCH_DRAIN_TIMEOUT_S=240  BENCH_KILL_SIGNAL=SIGTERM|SIGKILL  BENCH_SKIP_BUILD=1
 */
import { API_KEY, BridgeProcess, buildBridge, type Health } from './lib/bridge.js';
import { PrivateMosquitto } from './lib/broker.js';
import { banner, cpuPressure, envNum, onCleanup, runBench, sleep, systemInfo } from './lib/common.js';
import { LoadTarget, runFixedRate, type LoadResult } from './lib/load.js';
import { mb, ms, rate, rounded, table, writeResults } from './lib/stats.js';
import { ArrivalRecorder } from './lib/subscriber.js';
import { TelegramSource } from './lib/telegram.js';

const OUTAGE_S = envNum('BENCH_OUTAGE_S', 60);
const RATE = envNum('BENCH_RATE', 1000);
const PRE_S = envNum('BENCH_PRE_S', 15);
const POST_S = envNum('BENCH_POST_S', 20);
const IDLE_S = envNum('BENCH_IDLE_S', 5);
const DRAIN_TIMEOUT_S = envNum('BENCH_DRAIN_TIMEOUT_S', 240);
const KILL_SIGNAL = (process.env.BENCH_KILL_SIGNAL ?? 'SIGTERM') as NodeJS.Signals;
/** Above this RSS growth per queued outbox message the backlog is (partly) in RAM. */
const BOUNDED_BYTES_PER_MSG = 200;

type PhaseName = 'idle' | 'load' | 'outage' | 'recovery' | 'drain' | 'idle-after';

interface Sample {
  t: number;
  phase: PhaseName;
  rssKb: number | null;
  outbox: number | null;
  queue: number | null;
  mqtt: boolean | null;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 3) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

runBench('memory', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await PrivateMosquitto.start();
  onCleanup(() => broker.stop());
  const bridge = await BridgeProcess.start({ label: 'memory', env: { PARSER: 'local', MQTT_URL: broker.url } });
  onCleanup(() => bridge.stop());
  const gatewayId = `bench-mem-${Math.random().toString(36).slice(2, 8)}`;
  const sub = await ArrivalRecorder.connect(broker.url, gatewayId, { raw: true, persistentClientId: `bench-mem-sub-${gatewayId}` });
  onCleanup(() => sub.close());

  banner('Memory: broker outage under load', info, {
    broker: `private Mosquitto ${broker.url} (persistence on, stopped with ${KILL_SIGNAL})`,
    bridge: 'node .bench-build/main.js, SQLite in a temp dir, PARSER=local, N_WORKERS=8, QUEUE_MAX=OUTBOX_MAX=10,000,000',
    timeline: `idle ${IDLE_S} s → ${RATE} req/s for ${PRE_S} s → broker down ${OUTAGE_S} s (load goes on) → broker up, load ${POST_S} s → drain → idle ${IDLE_S} s`,
  });

  let phase: PhaseName = 'idle';
  const samples: Sample[] = [];
  const t0 = performance.now();
  let sampling = true;
  let inFlight = false;
  const sampler = setInterval(() => {
    if (inFlight || !sampling) return;
    inFlight = true;
    const t = (performance.now() - t0) / 1000;
    const rssKb = bridge.rssKb();
    const at = phase;
    void bridge.health().then(
      (h: Health) => samples.push({ t, phase: at, rssKb, outbox: h.outbox.depth, queue: h.queue.depth, mqtt: h.mqtt.connected }),
      () => samples.push({ t, phase: at, rssKb, outbox: null, queue: null, mqtt: null }),
    ).finally(() => {
      inFlight = false;
    });
  }, 500);
  onCleanup(() => clearInterval(sampler));

  await sleep(IDLE_S * 1000);
  const telegrams = new TelegramSource();
  const target = new LoadTarget([bridge.url], API_KEY, 50);
  onCleanup(() => target.close());
  const ids = new Map<string, number>();
  const loads: Array<{ phase: PhaseName; r: LoadResult }> = [];
  const run = async (p: PhaseName, seconds: number): Promise<void> => {
    phase = p;
    const r = await runFixedRate(target, RATE, { durationS: seconds, makeBody: () => telegrams.body(gatewayId), captureIds: true });
    for (const [id, at] of r.ids ?? []) ids.set(id, at);
    loads.push({ phase: p, r });
    console.log(`  ${p.padEnd(9)} ${r.accepted} accepted (${rate(r.acceptedPerS)}/s), non-202 ${r.sent - r.accepted}, ACK p99 ${ms(r.latency.p99)} ms, RSS ${mb(bridge.rssKb())}`);
  };

  await run('load', PRE_S);
  await broker.halt(KILL_SIGNAL);
  const downAt = performance.now();
  await run('outage', Math.max(0, OUTAGE_S - (performance.now() - downAt) / 1000));
  await broker.resume();
  const upAt = performance.now();
  await run('recovery', POST_S);
  phase = 'drain';
  const drainStart = performance.now();
  let drained = false;
  while ((performance.now() - drainStart) / 1000 < DRAIN_TIMEOUT_S) {
    const h = await bridge.health().catch(() => null);
    if (h && h.outbox.depth === 0 && h.queue.depth === 0 && h.queue.in_flight === 0 && (await sub.waitAll(ids.keys(), 10))) {
      drained = true;
      break;
    }
    await sleep(250);
  }
  const drainedAt = performance.now();
  // Late duplicates can still be on their way; give them a moment before counting.
  await sleep(1000);
  phase = 'idle-after';
  await sleep(IDLE_S * 1000);
  sampling = false;
  clearInterval(sampler);

  // ---------------------------------------------------------------- analysis
  const inPhase = (p: PhaseName): Sample[] => samples.filter((s) => s.phase === p);
  const peak = (p: PhaseName[], f: (s: Sample) => number | null): number | null => {
    const v = samples.filter((s) => p.includes(s.phase)).map(f).filter((x): x is number => x !== null);
    return v.length ? Math.max(...v) : null;
  };
  const idleRss = median(inPhase('idle').map((s) => s.rssKb ?? NaN).filter(Number.isFinite));
  const idleAfterRss = median(inPhase('idle-after').map((s) => s.rssKb ?? NaN).filter(Number.isFinite));
  const peakLoad = peak(['load'], (s) => s.rssKb);
  const peakOutage = peak(['outage'], (s) => s.rssKb);
  const peakRecovery = peak(['recovery', 'drain'], (s) => s.rssKb);
  const outboxPeak = peak(['load', 'outage', 'recovery', 'drain'], (s) => s.outbox);
  const outagePts = inPhase('outage').filter((s) => s.rssKb !== null && s.outbox !== null);
  const bytesPerMsg = slope(outagePts.map((s) => s.outbox!), outagePts.map((s) => s.rssKb! * 1024));
  const reconnect = samples.find((s) => s.t * 1000 >= upAt - t0 && s.mqtt === true);
  const reconnectS = reconnect ? reconnect.t - (upAt - t0) / 1000 : null;

  let lost = 0;
  let redelivered = 0;
  let rawLost = 0;
  let rawRedelivered = 0;
  for (const id of ids.keys()) {
    const n = sub.count.get(id) ?? 0;
    if (n === 0) lost++;
    else redelivered += n - 1;
    const r = sub.rawCount.get(id) ?? 0;
    if (r === 0) rawLost++;
    else rawRedelivered += r - 1;
  }
  const bounded = Number.isFinite(bytesPerMsg) ? bytesPerMsg < BOUNDED_BYTES_PER_MSG : null;

  console.log('\nRSS of the bridge (VmRSS, sampled every 500 ms):\n');
  console.log(table(['phase', 'samples', 'RSS min', 'RSS median', 'RSS peak', 'outbox depth peak'], (['idle', 'load', 'outage', 'recovery', 'drain', 'idle-after'] as PhaseName[]).map((p) => {
    const s = inPhase(p);
    const r = s.map((x) => x.rssKb).filter((x): x is number => x !== null);
    const o = s.map((x) => x.outbox).filter((x): x is number => x !== null);
    return [p, String(s.length), mb(r.length ? Math.min(...r) : null), mb(median(r)), mb(r.length ? Math.max(...r) : null), o.length ? rate(Math.max(...o)) : '-'];
  })));
  console.log('\nSummary:\n');
  console.log(table(['measure', 'value'], [
    ['baseline RSS, idle before load (median)', mb(idleRss)],
    ['peak RSS under load, broker up', mb(peakLoad)],
    ['peak RSS during outage', mb(peakOutage)],
    ['peak RSS after recovery (incl. drain)', mb(peakRecovery)],
    ['RSS idle after drain (median)', mb(idleAfterRss)],
    ['outbox depth peak', rate(outboxPeak)],
    ['RSS growth per queued outbox message (slope during outage)', Number.isFinite(bytesPerMsg) ? `${bytesPerMsg.toFixed(1)} bytes` : '-'],
    ['bounded (slope < 200 bytes/message)', bounded === null ? '-' : bounded ? 'yes' : 'NO'],
    ['MQTT reconnect after broker restart', reconnectS === null ? 'not seen' : `${reconnectS.toFixed(1)} s`],
    ['drain time after restart (outbox and queue empty, all arrived)', drained ? `${((drainedAt - upAt) / 1000).toFixed(1)} s` : `not within ${DRAIN_TIMEOUT_S} s after load`],
    ['accepted telegrams', String(ids.size)],
    ['non-202 answers', String(loads.reduce((a, l) => a + l.r.sent - l.r.accepted, 0))],
    ['lost (no reading/error for an accepted ingest_id)', String(lost)],
    ['redelivered (extra reading/error arrivals)', String(redelivered)],
    ['raw messages lost / redelivered', `${rawLost} / ${rawRedelivered}`],
  ]));

  const path = writeResults('memory', {
    benchmark: 'memory', system: info, broker: 'private-mosquitto', killSignal: KILL_SIGNAL,
    config: { rate: RATE, preS: PRE_S, outageS: OUTAGE_S, postS: POST_S, idleS: IDLE_S },
    rssKb: { idle: idleRss, peakLoad, peakOutage, peakRecovery, idleAfter: idleAfterRss },
    outboxPeak, bytesPerQueuedMessage: bytesPerMsg, bounded, reconnectS, drained, drainS: drained ? (drainedAt - upAt) / 1000 : null,
    accepted: ids.size, lost, redelivered, rawLost, rawRedelivered,
    cpuPressureAvg60AtEnd: cpuPressure(),
    loads: loads.map((l) => ({ phase: l.phase, accepted: l.r.accepted, statuses: l.r.statuses, acceptedPerS: l.r.acceptedPerS, latency: rounded(l.r.latency) })),
    samples: samples.map((s) => ({ ...s, t: Math.round(s.t * 10) / 10 })),
  });
  console.log(`\nresults: ${path}`);
  if (lost > 0) throw new Error(`${lost} accepted telegrams never arrived`);
});
