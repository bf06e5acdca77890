/**
 * The batch path without HTTP, in this process: the route's item checks, IngestService.acceptBatch
 * and the store, on a temp SQLite file (writer thread by default, as in production). Prints µs per
 * item for each stage, so a CPU profile (`node --cpu-prof`) can be read against them.
 *
 * Run: npx tsx bench/batch-path.ts
 * Env: BENCH_BATCH=500  BENCH_DURATION_S=5  BENCH_STORE=threaded|direct
 *      (profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/batch-path.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTelegram } from '../src/ingest/check-telegram.js';
import { IngestService } from '../src/ingest/ingest-service.js';
import { EventBus } from '../src/observability/events.js';
import { createLogger } from '../src/observability/logger.js';
import { Topics } from '../src/publish/topics.js';
import { KeyVault } from '../src/security/key-vault.js';
import { MeterKeyService } from '../src/security/meter-key-service.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';
import type { TelegramStore } from '../src/store/store.js';
import { envNum } from './lib/common.js';
import { telegramHex } from './lib/telegram.js';

const BATCH = envNum('BENCH_BATCH', 500);
const DURATION_S = envNum('BENCH_DURATION_S', 5);
const KIND = process.env.BENCH_STORE === 'direct' ? 'direct' : 'threaded';
/** BENCH_CLIENT_IDS=0 / BENCH_DEDUP=0 leave out the client id / the dedup window, to see what each costs. */
const CLIENT_IDS = process.env.BENCH_CLIENT_IDS !== '0';
const DEDUP = process.env.BENCH_DEDUP !== '0';

const dir = mkdtempSync(join(tmpdir(), 'oms-batch-path-'));
const file = join(dir, 'bridge.db');
const store: TelegramStore = KIND === 'direct' ? new SqliteStore(file) : new ThreadedSqliteStore(file);
await store.start();
const log = createLogger('silent');
const events = new EventBus(log);
const ingest = new IngestService(store, new Topics('oms/v1/gw/{gateway_id}/meter/{meter_id}'), events, log, {
  dedupWindowMs: DEDUP ? 300_000 : null, queueMax: 1e9, outboxMax: 1e9, qos: 1, depthRefreshMs: 60_000, clientIdTtlMs: 86_400_000,
}, new MeterKeyService(store, new KeyVault()), () => {});

let n = 0;
const body = (): string => {
  const items: string[] = [];
  for (let i = 0; i < BATCH; i++, n++) items.push(`{${CLIENT_IDS ? `"client_id":"c${n}",` : ''}"gateway_id":"gw-bench","raw_hex":"${telegramHex(n)}","rssi_dbm":-80}`);
  return `{"items":[${items.join(',')}]}`;
};

const t = { parse: 0, check: 0, accept: 0 };
let items = 0;
const run = async (seconds: number): Promise<void> => {
  const end = performance.now() + seconds * 1_000;
  while (performance.now() < end) {
    const text = body();
    const t0 = performance.now();
    const parsed = JSON.parse(text) as { items: unknown[] };
    const t1 = performance.now();
    const inputs = parsed.items.map((item) => {
      const c = checkTelegram(item, '*');
      if (!c.ok) throw new Error('invalid item');
      return c.input;
    });
    const t2 = performance.now();
    await ingest.acceptBatch(inputs);
    const t3 = performance.now();
    t.parse += t1 - t0;
    t.check += t2 - t1;
    t.accept += t3 - t2;
    items += inputs.length;
  }
};

await run(1); // warm-up
Object.assign(t, { parse: 0, check: 0, accept: 0 });
items = 0;
const started = performance.now();
await run(DURATION_S);
const elapsed = (performance.now() - started) / 1_000;
const us = (ms: number) => ((ms * 1_000) / items).toFixed(1);
console.log(`store ${KIND}, client ids ${CLIENT_IDS}, dedup ${DEDUP}, batches of ${BATCH}: ${Math.round(items / elapsed).toLocaleString('en')} telegrams/s (${items} in ${elapsed.toFixed(1)} s)`);
console.log(`µs per item: JSON.parse ${us(t.parse)}, item checks ${us(t.check)}, acceptBatch ${us(t.accept)} (prepare + store + answer)`);
await store.stop();
rmSync(dir, { recursive: true, force: true });
