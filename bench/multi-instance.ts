/**
 * Scale-out benchmark: accepted telegrams/s and end-to-end telegrams/s with one
 * and with two bridge instances on one PostgreSQL schema (load round-robin over
 * both), next to the single SQLite instance.
 *
 * Each configuration: a closed loop with BENCH_CONNECTIONS connections (spread
 * over the instances) for BENCH_DURATION_S gives accepted/s; every accepted
 * telegram is then awaited at an MQTT subscriber (PARSER=local), giving
 * e2e/s = readings / (last reading − first POST) and the readings/s that came
 * out while the load was running.
 *
 * PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?schema=bench_<random>
 * (the bridge creates the schema; src/store/postgres/postgres-config.ts); the
 * schema is dropped afterwards. Skipped with a message when PostgreSQL does not
 * answer or the store is missing. BENCH_PG_URL overrides the server URL.
 *
 * Run: npx tsx bench/multi-instance.ts   (npm run bench:multi)
 * Env: BENCH_DURATION_S=10  BENCH_CONNECTIONS=50  BENCH_DRAIN_TIMEOUT_S=120  BENCH_N_WORKERS (default: the bridge's)
 *      BENCH_PG_URL  BENCH_MQTT=system|private
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { API_KEY, BridgeProcess, buildBridge } from './lib/bridge.js';
import { chooseBroker } from './lib/broker.js';
import { banner, cpuMsByName, cpuPressure, CpuMeter, envNum, MachineCpuMeter, onCleanup, portOpen, ROOT, runBench, systemInfo } from './lib/common.js';
import { LoadTarget, runSaturation } from './lib/load.js';
import { ms, pct, rate, ratio, rounded, table, writeResults } from './lib/stats.js';
import { ArrivalRecorder, e2eSummary, type E2eSummary } from './lib/subscriber.js';
import { TelegramSource } from './lib/telegram.js';

const DURATION_S = envNum('BENCH_DURATION_S', 10);
const CONNECTIONS = envNum('BENCH_CONNECTIONS', 50);
const DRAIN_TIMEOUT_S = envNum('BENCH_DRAIN_TIMEOUT_S', 120);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** N_WORKERS of every instance; unset = the bridge's default (8). */
const WORKERS = process.env.BENCH_N_WORKERS;

interface Config {
  name: string;
  db: 'sqlite' | 'postgres';
  instances: number;
}

interface ConfigResult extends Config {
  acceptedPerS: number;
  accepted: number;
  non202: number;
  ackP50Ms: number;
  ackP99Ms: number;
  e2e: E2eSummary;
  /** Readings that arrived while the load ran, per s of load. */
  e2eDuringLoadPerS: number;
  /** CPU of each instance while the load ran, % of one core. */
  instanceCpuPct: Array<number | null>;
  /** CPU of each instance from the end of the load until the last reading, % of one core (null: under 0.5 s). */
  instanceDrainCpuPct: Array<number | null>;
  /** PostgreSQL server processes (all backends on the machine) while the load ran, % of one core. */
  postgresCpuPct: number | null;
  /** Whole machine busy while the load ran, % of all cores. */
  machineCpuPct: number | null;
}

async function postgresAvailable(): Promise<string | null> {
  if (!existsSync(join(ROOT, 'src/store/postgres/postgres-store.ts'))) return 'src/store/postgres/ is not there (PostgreSQL support not merged yet)';
  const port = Number(new URL(PG_URL).port || 5432);
  if (!(await portOpen(port))) return `nothing answers on 127.0.0.1:${port}`;
  const c = new pg.Client({ connectionString: PG_URL });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (err) {
    return `cannot connect to ${PG_URL}: ${(err as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

runBench('multi-instance', async () => {
  const info = systemInfo();
  buildBridge();
  const pgProblem = await postgresAvailable();
  const broker = await chooseBroker(false);
  const configs: Config[] = [
    { name: 'SQLite ×1', db: 'sqlite', instances: 1 },
    { name: 'PostgreSQL ×1', db: 'postgres', instances: 1 },
    { name: 'PostgreSQL ×2', db: 'postgres', instances: 2 },
  ];
  banner('Scale-out: one vs. two instances on PostgreSQL', info, {
    broker: broker.description,
    bridge: `node .bench-build/main.js, PARSER=local, N_WORKERS=${WORKERS ?? '8 (default)'}, LOG_LEVEL=warn, QUEUE_MAX=OUTBOX_MAX=10,000,000`,
    load: `closed loop, ${CONNECTIONS} keep-alive connections spread round-robin over the instances, ${DURATION_S} s; then wait for every reading`,
    postgres: pgProblem ? `SKIPPED — ${pgProblem}` : `${PG_URL}, one fresh schema per configuration`,
  });

  const results: ConfigResult[] = [];
  for (const cfg of configs) {
    if (cfg.db === 'postgres' && pgProblem) {
      console.log(`  ${cfg.name}: skipped (${pgProblem})`);
      continue;
    }
    const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
    const env: Record<string, string> = { PARSER: 'local', ...broker.bridgeEnv, ...(WORKERS ? { N_WORKERS: WORKERS } : {}) };
    if (cfg.db === 'postgres') {
      env.DATABASE_URL = `${PG_URL}?schema=${schema}`;
      onCleanup(() => dropSchema(schema));
    }
    const bridges: BridgeProcess[] = [];
    try {
      for (let i = 0; i < cfg.instances; i++) {
        const b = await BridgeProcess.start({ label: `${cfg.name} #${i + 1}`, env: { ...env, INSTANCE_ID: `bench-${schema}-${i + 1}` } });
        bridges.push(b);
        onCleanup(() => b.stop());
      }
      const gatewayId = `bench-multi-${schema.slice(6)}`;
      const sub = await ArrivalRecorder.connect(broker.url, gatewayId);
      const telegrams = new TelegramSource();
      const target = new LoadTarget(bridges.map((b) => b.url), API_KEY, Math.ceil(CONNECTIONS / cfg.instances));
      try {
        // Warm-up (JIT, connection pools, prepared statements).
        await runSaturation(target, CONNECTIONS, { durationS: 1, makeBody: () => telegrams.body(`${gatewayId}-warm`) });
        for (const b of bridges) await b.waitIdle(DRAIN_TIMEOUT_S * 1000);
        const cpus = bridges.map((b) => new CpuMeter(b.pid));
        const machine = new MachineCpuMeter();
        const pgCpu0 = cpuMsByName('postgres');
        const r = await runSaturation(target, CONNECTIONS, { durationS: DURATION_S, makeBody: () => telegrams.body(gatewayId), captureIds: true });
        const loadEnd = performance.now();
        const instanceCpuPct = cpus.map((c) => c.read());
        const machineCpuPct = machine.read();
        const postgresCpuPct = cfg.db === 'postgres' ? (100 * (cpuMsByName('postgres') - pgCpu0)) / (loadEnd - r.t0) : null;
        for (const c of cpus) c.reset();
        const ids = r.ids ?? new Map<string, number>();
        const complete = await sub.waitAll(ids.keys(), DRAIN_TIMEOUT_S * 1000);
        const drainMs = performance.now() - loadEnd;
        const instanceDrainCpuPct = cpus.map((c) => (drainMs < 500 ? null : c.read()));
        const e2e = e2eSummary(ids, sub);
        let during = 0;
        for (const id of ids.keys()) if ((sub.first.get(id) ?? Infinity) <= loadEnd) during++;
        const res: ConfigResult = {
          ...cfg, acceptedPerS: r.acceptedPerS, accepted: r.accepted, non202: r.sent - r.accepted, ackP50Ms: r.latency.p50, ackP99Ms: r.latency.p99,
          e2e, e2eDuringLoadPerS: during / ((loadEnd - r.t0) / 1000), instanceCpuPct, instanceDrainCpuPct, postgresCpuPct, machineCpuPct,
        };
        results.push(res);
        console.log(`  ${cfg.name.padEnd(14)} accepted ${rate(res.acceptedPerS)}/s (ACK p99 ${ms(res.ackP99Ms)} ms), e2e ${rate(e2e.overallPerS)}/s overall, ${rate(res.e2eDuringLoadPerS)}/s during load${complete ? '' : `, ${e2e.missing} MISSING after ${DRAIN_TIMEOUT_S} s`}`);
      } finally {
        await target.close();
        await sub.close();
      }
    } finally {
      for (const b of bridges) await b.stop();
      if (cfg.db === 'postgres') await dropSchema(schema).catch((err: unknown) => console.error(`dropping schema ${schema} failed:`, err));
    }
  }

  const sqlite = results.find((r) => r.name === 'SQLite ×1');
  const pg1 = results.find((r) => r.name === 'PostgreSQL ×1');
  console.log('\nRatios: "vs SQLite" = this / SQLite ×1; "scale-out" = this / PostgreSQL ×1.\n');
  console.log(table(
    ['config', 'accepted/s', 'ACK p99 ms', 'e2e/s overall', 'e2e/s during load', 'acc vs SQLite', 'e2e vs SQLite', 'acc scale-out', 'e2e scale-out', 'missing', 'dup', 'CPU/instance load', 'CPU/instance drain', 'PostgreSQL CPU', 'machine busy'],
    results.map((r) => [
      r.name, rate(r.acceptedPerS), ms(r.ackP99Ms), rate(r.e2e.overallPerS), rate(r.e2eDuringLoadPerS),
      ratio(r.acceptedPerS, sqlite?.acceptedPerS), ratio(r.e2e.overallPerS, sqlite?.e2e.overallPerS),
      r.db === 'postgres' ? ratio(r.acceptedPerS, pg1?.acceptedPerS) : '-', r.db === 'postgres' ? ratio(r.e2e.overallPerS, pg1?.e2e.overallPerS) : '-',
      String(r.e2e.missing), String(r.e2e.duplicates), r.instanceCpuPct.map(pct).join(' + '), r.instanceDrainCpuPct.map(pct).join(' + '),
      pct(r.postgresCpuPct), pct(r.machineCpuPct),
    ]),
  ));
  if (pgProblem) console.log(`\nPostgreSQL configurations skipped: ${pgProblem}`);
  console.log(`\nCPU columns: instance and PostgreSQL in % of one core; "machine busy" in % of all ${info.nproc} cores, everything on the machine (other engineers' tests included).`);
  console.log(`note: ${info.nproc} cores for the instances, PostgreSQL, the broker and the load driver together; a second instance can only add throughput where one instance leaves a core idle.`);

  const path = writeResults('multi-instance', {
    benchmark: 'multi-instance', system: info, broker: broker.kind, brokerDescription: broker.description, postgresSkipped: pgProblem,
    config: { durationS: DURATION_S, connections: CONNECTIONS, nWorkers: WORKERS ?? 'default' },
    cpuPressureAvg60AtEnd: cpuPressure(),
    results: results.map((r) => ({ ...r, e2e: { ...r.e2e, latency: rounded(r.e2e.latency) } })),
  });
  console.log(`\nresults: ${path}`);
});
