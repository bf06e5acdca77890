/**
 * Cost of the store operations one telegram goes through, on SQLite (the same
 * file-backed WAL database the bridge uses), in µs per call — to explain the
 * ingest and e2e figures. Single-threaded, no HTTP, no MQTT.
 *
 * Run: npx tsx bench/store-ops.ts
 * Env: BENCH_OPS_N=5000 (telegrams per measurement)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Job, NewTelegram, OutboxMessage } from '../src/store/store.js';
import { envNum, runBench, systemInfo } from './lib/common.js';
import { table, writeResults } from './lib/stats.js';
import { telegramHex } from './lib/telegram.js';

const N = envNum('BENCH_OPS_N', 5000);

runBench('store-ops', async () => {
  const info = systemInfo();
  const dir = mkdtempSync(join(tmpdir(), 'oms-bench-ops-'));
  const store = new SqliteStore(join(dir, 'ops.db'));
  await store.start();
  let n = 0;
  const telegram = (): [NewTelegram, OutboxMessage] => {
    const ingestId = randomUUID();
    const rawHex = telegramHex(n++);
    return [
      { ingestId, gatewayId: 'gw', rxTime: new Date().toISOString(), rssiDbm: -80, mode: null, rawHex, meterId: '33225544', manufacturer: 'SEN', dedupHash: `${rawHex}${n}`, keyHex: null, createdAt: Date.now() },
      { ingestId, kind: 'raw', topic: `oms/v1/gw/gw/raw/${ingestId}`, payload: `{"schema":"oms.bridge.v1","ingest_id":"${ingestId}","raw_hex":"${rawHex}"}`.padEnd(400), qos: 1, retain: false },
    ];
  };
  const reading = 'x'.repeat(3000);
  const rows: Array<[string, string, string]> = [];
  const time = async (name: string, calls: number, fn: () => Promise<unknown>, note = ''): Promise<void> => {
    const t0 = performance.now();
    await fn();
    const us = ((performance.now() - t0) * 1000) / calls;
    rows.push([name, us.toFixed(1), note]);
  };

  try {
    const ids: string[] = [];
    await time('insertTelegram (dedup on)', N, async () => {
      for (let i = 0; i < N; i++) {
        const [t, raw] = telegram();
        await store.insertTelegram(t, raw, 300_000);
        ids.push(t.ingestId);
      }
    }, 'one transaction: dedup claim + telegram + raw outbox row');
    const claimed: Job[] = [];
    await time('claimJobs(64), 1 job due', N, async () => {
      // The worker pool claims as soon as it is woken, i.e. about once per accepted telegram.
      for (let i = 0; i < N; i++) claimed.push(...(await store.claimJobs(1, Date.now(), 'bench', 30_000)));
    }, 'autocommit UPDATE … RETURNING');
    await time('claimJobs(64), nothing due', N, async () => {
      for (let i = 0; i < N; i++) await store.claimJobs(64, Date.now(), 'bench', 30_000);
    });
    await time('finishJob (done + reading)', N, async () => {
      for (const job of claimed) {
        const id = job.ingestId;
        await store.finishJob(job, {
          status: 'done', attempts: 1, errorCode: null, lastError: null, parsedJson: reading, now: Date.now(),
          messages: [{ ingestId: id, kind: 'reading', topic: 'oms/v1/gw/gw/meter/33225544/reading', payload: reading, qos: 1, retain: false }],
        });
      }
    }, 'one transaction: status + parse_results + reading outbox row');
    await time('claimOutbox(256) + markPublished, per message', 2 * N, async () => {
      for (;;) {
        const batch = await store.claimOutbox(256, Date.now(), 'bench', 30_000);
        if (batch.length === 0) break;
        await store.markPublished(batch.map((r) => r.id), Date.now());
      }
    }, `${2 * N} messages (raw + reading) in batches of 256`);
    await time('depths()', 200, async () => {
      for (let i = 0; i < 200; i++) await store.depths();
    }, `COUNT(*) over telegrams (${N} rows, all done) and outbox (empty) — runs every 500 ms and on /healthz`);
    // Grow the telegrams table (finished rows stay until purged) and measure depths() again.
    for (let i = 0; i < 5 * N; i++) {
      const [t, raw] = telegram();
      await store.insertTelegram(t, raw, null);
    }
    await time('depths(), 6× the rows', 50, async () => {
      for (let i = 0; i < 50; i++) await store.depths();
    }, `${6 * N} telegrams, ${5 * N} outbox rows: grows with the table (full scans)`);
  } finally {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\n# SQLite store operations (${info.cpuModel}, node ${info.node}, ${N} telegrams)\n`);
  console.log(table(['operation', 'µs per call', 'note'], rows));
  const path = writeResults('store-ops', { benchmark: 'store-ops', system: info, n: N, rows: rows.map(([op, us, note]) => ({ op, us: Number(us), note })) });
  console.log(`\nresults: ${path}`);
});
