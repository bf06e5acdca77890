/**
 * The first insert after a restart with many telegrams inside the dedup window: the SQLite store
 * keeps the window in memory and reads it back from the telegram table at start. Writes N telegrams
 * (batches of 1,000), restarts the store, then times prepareIntake() (what the bridge runs before it
 * listens) and the first two inserts. BENCH_LAZY=1 skips prepareIntake, as before 2026-12-03, so the
 * first insert reads the window in.
 *
 * Run: npx tsx bench/dedup-restart.ts     Env: BENCH_N=200000  BENCH_LAZY=1
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedupHash } from '../src/ingest/ingest-service.js';
import { uuid7 } from '../src/lib/uuid7.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { envNum } from './lib/common.js';

const N = envNum('BENCH_N', 200_000);
const LAZY = process.env.BENCH_LAZY === '1';
const WINDOW_MS = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'oms-dedup-restart-'));
const file = join(dir, 'bridge.db');
const item = (i: number) => {
  const ingestId = uuid7();
  const rawHex = `2e44931578563412${i.toString(16).padStart(16, '0')}`;
  return {
    telegram: {
      ingestId, gatewayId: 'gw-bench', rxTime: new Date().toISOString(), rssiDbm: -80, mode: null, rawHex, meterId: '12345678',
      manufacturer: 'LUG', dedupHash: dedupHash('gw-bench', rawHex), keyHex: null, createdAt: Date.now(),
    },
    raw: { ingestId, kind: 'raw' as const, topic: `bench/raw/${ingestId}`, payload: '{}', qos: 1 as const, retain: false },
    clientId: null,
  };
};

try {
  const writer = new SqliteStore(file);
  await writer.start();
  for (let i = 0; i < N; i += 1_000) await writer.insertTelegrams(Array.from({ length: Math.min(1_000, N - i) }, (_, k) => item(i + k)), WINDOW_MS, 86_400_000);
  await writer.stop();

  const store = new SqliteStore(file);
  await store.start();
  const t0 = performance.now();
  if (!LAZY) await store.prepareIntake(WINDOW_MS);
  const t1 = performance.now();
  const a = item(N);
  await store.insertTelegram(a.telegram, a.raw, WINDOW_MS);
  const t2 = performance.now();
  const b = item(N + 1);
  await store.insertTelegram(b.telegram, b.raw, WINDOW_MS);
  const t3 = performance.now();
  await store.stop();
  console.log(`${N} telegrams in the window, ${LAZY ? 'read in by the first insert' : 'prepareIntake before the first insert'}:`);
  console.log(`  prepareIntake ${(t1 - t0).toFixed(0)} ms, first insert ${(t2 - t1).toFixed(1)} ms, second insert ${(t3 - t2).toFixed(2)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
