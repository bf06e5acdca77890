/**
 * QoS 1 publish rate of one MQTT.js connection when the next batch waits for every PUBACK of the
 * last one (window 1, the outbox relay before 2026-12-03) and when several batches are out at once
 * (the relay's window). No bridge: it shows what the broker connection alone allows.
 *
 * Run: npx tsx bench/mqtt-window.ts
 * Env: BENCH_MQTT_URL=mqtt://127.0.0.1:1883  BENCH_BATCH=100  BENCH_WINDOWS=1,2,4,8  BENCH_STEP_S=3
 */
import mqtt from 'mqtt';
import { envNum, envNums } from './lib/common.js';

const URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const BATCH = envNum('BENCH_BATCH', 100);
const WINDOWS = envNums('BENCH_WINDOWS', [1, 2, 4, 8]);
const STEP_S = envNum('BENCH_STEP_S', 3);
const PAYLOAD = 'x'.repeat(400); // about a reading's size

const client = await mqtt.connectAsync(URL, { queueQoSZero: false });
console.log(`broker ${URL}, batches of ${BATCH} messages of ${PAYLOAD.length} bytes, QoS 1, ${STEP_S} s per window`);
for (const window of WINDOWS) {
  const inFlight = new Set<Promise<void>>();
  let acked = 0;
  const start = performance.now();
  while (performance.now() - start < STEP_S * 1_000) {
    const batch = Promise.all(Array.from({ length: BATCH }, (_, i) => client.publishAsync(`bench/window/${i % 8}`, PAYLOAD, { qos: 1 })))
      .then(() => {
        acked += BATCH;
        inFlight.delete(batch);
      });
    inFlight.add(batch);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1_000;
  console.log(`window ${String(window).padStart(2)}: ${Math.round(acked / seconds).toLocaleString('en-US')} messages/s acknowledged`);
}
await client.endAsync();
