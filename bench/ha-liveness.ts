/** Cost per telegram of issue 13's additions: liveness upsert (SQLite file) and HA discovery/state building. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaDiscovery } from '../src/homeassistant/ha-discovery.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { decode, parseHeader, toValues } from '../src/wmbus/index.js';

const N = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'oms-bench-'));
const store = new SqliteStore(join(dir, 'b.db'));
await store.start();
const policy = { intervals: 3, minMs: 3_600_000 };
let t = performance.now();
for (let i = 0; i < N; i++) {
  await store.recordMeterSeen({ meterId: `m${i % 1000}`, manufacturer: 'ELS', gatewayId: `gw${i % 3}`, rssiDbm: -70, at: 1_700_000_000_000 + i * 1_000, errorCode: null, error: null, ingestId: `i${i}` }, policy);
}
const seenUs = ((performance.now() - t) * 1000) / N;
t = performance.now();
const stale = await store.markStaleMeters(1_800_000_000_000, 10_000);
const staleMs = performance.now() - t;
await store.stop();
rmSync(dir, { recursive: true, force: true });

const hex = '1844ae4c4455223368077a55000000041389e20100023b0000'; // water meter: volume + flow
const h = parseHeader(hex);
const values = toValues(decode(hex));
const ha = new HaDiscovery({ prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0', maxMeters: 10_000 });
t = performance.now();
for (let i = 0; i < N; i++) {
  const out = ha.messagesFor({ ingestId: 'x', rxTime: '2026-01-01T00:00:00Z', rssiDbm: -70, gatewayId: 'gw', meterId: `${i % 1000}` }, { id: `${i % 1000}`, manufacturer: h.manufacturer, device_type: h.deviceType, version: h.version }, 'local', values);
  out.commit();
}
const haUs = ((performance.now() - t) * 1000) / N;
console.log(JSON.stringify({ recordMeterSeen_us: Math.round(seenUs), markStale_1000_meters_ms: Math.round(staleMs), marked: stale.length, ha_messages_us: Math.round(haUs * 10) / 10 }));
