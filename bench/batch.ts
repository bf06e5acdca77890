/**
 * Batch benchmark: telegrams/s accepted through POST /v1/telegrams/batch
 * (batches of BENCH_BATCH items, each with a client_id), against the same
 * bridge's single POST /v1/telegrams at saturation as the baseline. Every
 * 200 means the whole batch is committed to SQLite (durable before the answer).
 * Then the same batches are uploaded again (a retry after lost answers): every
 * item must come back `repeated` with the first ingest id, nothing new stored.
 *
 * Run: npx tsx bench/batch.ts   (npm run bench:batch)
 * Env: BENCH_BATCH=500  BENCH_DURATION_S=10  BENCH_CONNECTIONS=4 (batch callers)
 *      BENCH_SINGLE_CONNECTIONS=50  BENCH_MQTT=system|private|embedded  BENCH_SKIP_BUILD=1
 *      BENCH_BRIDGE_ENV='{"N_WORKERS":"1"}'
 */
import { Pool } from 'undici';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import { banner, CpuMeter, envNum, onCleanup, runBench, systemInfo } from './lib/common.js';
import { LoadTarget, runSaturation } from './lib/load.js';
import { ms, pct, rate, summarize, table, writeResults } from './lib/stats.js';
import { telegramHex, TelegramSource } from './lib/telegram.js';

const BATCH = envNum('BENCH_BATCH', 500);
const DURATION_S = envNum('BENCH_DURATION_S', 10);
const CONNECTIONS = envNum('BENCH_CONNECTIONS', 4);
const SINGLE_CONNECTIONS = envNum('BENCH_SINGLE_CONNECTIONS', 50);
const TARGET_PER_S = 100_000;

interface BatchRun {
  batches: number;
  items: number;
  accepted: number;
  /** Retry run only: items answered with the ingest id of the first upload. */
  repeated: number;
  non200: number;
  elapsedS: number;
  itemsPerS: number;
  latency: ReturnType<typeof summarize>;
}

/** Closed loop: `CONNECTIONS` callers, each posts its next batch when the previous one is answered. */
async function runBatches(pool: Pool, bodies: () => string | undefined, durationS: number, answers?: Map<string, string[]>): Promise<BatchRun> {
  const lat: number[] = [];
  let batches = 0;
  let items = 0;
  let accepted = 0;
  let repeated = 0;
  let non200 = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const body = bodies();
      if (body === undefined) return;
      const sent = performance.now();
      const res = await pool.request({
        method: 'POST', path: '/v1/telegrams/batch', body,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      });
      const text = await res.body.text();
      lat.push(performance.now() - sent);
      batches++;
      if (res.statusCode !== 200) {
        non200++;
        continue;
      }
      const answer = JSON.parse(text) as { accepted: number; duplicate: number; results: Array<{ ingest_id?: string }> };
      const ids = answer.results.map((r) => r.ingest_id ?? '');
      items += ids.length;
      const first = answers?.get(body);
      if (answers && !first) answers.set(body, ids);
      if (first) {
        // A retried upload: the same ids back means nothing new was stored.
        const same = ids.filter((id, i) => id === first[i]).length;
        repeated += same;
        accepted += ids.length - same;
      } else {
        accepted += answer.accepted;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, caller));
  const elapsedS = (performance.now() - t0) / 1000;
  return { batches, items, accepted, repeated, non200, elapsedS, itemsPerS: items / elapsedS, latency: summarize(lat) };
}

runBench('batch', async () => {
  const info = systemInfo();
  buildBridge();
  const broker = await chooseBroker(true);
  const bridge = await BridgeProcess.start({ label: 'bridge', env: { PARSER: 'local', ...broker.bridgeEnv, BATCH_MAX_BYTES: String(64 * 1_048_576) } });
  onCleanup(() => bridge.stop());
  banner('Batch upload: telegrams/s through POST /v1/telegrams/batch', info, {
    broker: broker.description,
    bridge: 'node .bench-build/main.js, SQLite (file, writer thread) in a temp dir, PARSER=local, pipeline running, LOG_LEVEL=warn',
    load: `${CONNECTIONS} keep-alive callers back to back, ${BATCH} telegrams per batch with client_id, ${DURATION_S} s; baseline: POST /v1/telegrams with ${SINGLE_CONNECTIONS} connections, ${DURATION_S} s`,
  });

  const gatewayId = `bench-batch-${Math.random().toString(36).slice(2, 8)}`;
  // Bodies are built before the clock runs, so the driver's JSON work does not count against the bridge.
  const sent: string[] = [];
  let n = 1_000_000;
  const makeBatch = (): string => {
    const items: string[] = [];
    for (let i = 0; i < BATCH; i++, n++) items.push(`{"client_id":"c${n}","gateway_id":"${gatewayId}","raw_hex":"${telegramHex(n)}","rssi_dbm":-80}`);
    return `{"items":[${items.join(',')}]}`;
  };
  const pool = new Pool(bridge.url, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });
  onCleanup(() => pool.close());

  // Warm-up (JIT, SQLite page cache), then idle.
  await runBatches(pool, makeBatch, 2);
  await bridge.waitIdle(120_000);

  const prebuilt = Array.from({ length: Math.ceil((120_000 * DURATION_S) / BATCH) }, makeBatch);
  let next = 0;
  const cpu = new CpuMeter(bridge.pid);
  const answers = new Map<string, string[]>();
  const first = await runBatches(pool, () => {
    const body = prebuilt[next++] ?? makeBatch();
    sent.push(body);
    return body;
  }, DURATION_S, answers);
  const firstCpu = cpu.read();
  console.log(`  batch      ${rate(first.itemsPerS).padStart(8)} telegrams/s  p50 ${ms(first.latency.p50)} ms  p99 ${ms(first.latency.p99)} ms per batch  non-200 ${first.non200}  bridge CPU ${pct(firstCpu)}`);
  const settle = await bridge.waitIdle(300_000);

  // The same uploads again, as a store-and-forward gateway retrying after lost answers.
  let replay = 0;
  const retryCpu = new CpuMeter(bridge.pid);
  const retry = await runBatches(pool, () => sent[replay++], DURATION_S * 3, answers);
  const retryCpuPct = retryCpu.read();
  console.log(`  retry      ${rate(retry.itemsPerS).padStart(8)} telegrams/s  repeated ${retry.repeated}/${retry.items}  new ${retry.accepted}  non-200 ${retry.non200}`);

  const single = new LoadTarget([bridge.url], API_KEY, SINGLE_CONNECTIONS);
  onCleanup(() => single.close());
  const src = new TelegramSource(50_000_000);
  const singleCpu = new CpuMeter(bridge.pid);
  const s = await runSaturation(single, SINGLE_CONNECTIONS, { durationS: DURATION_S, makeBody: () => src.body(gatewayId) });
  const singleCpuPct = singleCpu.read();
  console.log(`  single     ${rate(s.acceptedPerS).padStart(8)} telegrams/s  p99 ${ms(s.latency.p99)} ms per request`);

  const ok = first.itemsPerS >= TARGET_PER_S;
  console.log(`\n${table(
    ['way in', 'telegrams/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'bridge CPU'],
    [
      [`batch of ${BATCH}`, rate(first.itemsPerS), ms(first.latency.p50), ms(first.latency.p99), String(first.batches), String(first.non200), pct(firstCpu)],
      [`retry of the same batches`, rate(retry.itemsPerS), ms(retry.latency.p50), ms(retry.latency.p99), String(retry.batches), String(retry.non200), pct(retryCpuPct)],
      ['single POST (baseline)', rate(s.acceptedPerS), ms(s.latency.p50), ms(s.latency.p99), String(s.sent), String(s.sent - s.accepted), pct(singleCpuPct)],
    ],
  )}`);
  console.log(`\ntarget ≥ ${rate(TARGET_PER_S)} telegrams/s through batches: ${ok ? 'ok' : 'MISSED'} (${(first.itemsPerS / s.acceptedPerS).toFixed(1)}× the single API); pipeline settled ${settle === null ? 'not within 300 s' : `in ${(settle / 1000).toFixed(1)} s`}; retry stored ${retry.accepted} new`);
  const path = writeResults('batch', { benchmark: 'batch', system: info, broker: broker.kind, config: { batch: BATCH, durationS: DURATION_S, connections: CONNECTIONS }, first, firstCpu, retry, single: { acceptedPerS: s.acceptedPerS, latency: s.latency }, settleMs: settle, ok });
  console.log(`results: ${path}`);
});
