/**
 * MQTT subscriber that records, per ingest_id, when its final message
 * (reading or error) first arrived and how often it arrived.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { summarize, type LatencySummary } from './stats.js';

export interface SubscriberOptions {
  /** Also count …/raw/{ingest_id}. */
  raw?: boolean;
  /** Persistent session (clean=false) with this client id: survives a broker restart when the broker persists. */
  persistentClientId?: string;
}

const ID_RE = /"ingest_id":"([^"]+)"/;

export class ArrivalRecorder {
  /** ingest_id → first arrival of its reading or error (performance.now() ms). */
  readonly first = new Map<string, number>();
  /** ingest_id → arrivals of its reading or error. */
  readonly count = new Map<string, number>();
  /** ingest_id → arrivals of its raw message (with `raw`). */
  readonly rawCount = new Map<string, number>();
  readings = 0;
  errors = 0;
  raws = 0;
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, gatewayId: string, o: SubscriberOptions = {}): Promise<ArrivalRecorder> {
    const persistent = o.persistentClientId !== undefined;
    const client = await mqtt.connectAsync(url, {
      clientId: o.persistentClientId ?? `bench-sub-${Math.random().toString(16).slice(2, 10)}`,
      clean: !persistent,
      reconnectPeriod: 250,
      connectTimeout: 5_000,
      keepalive: 30,
    });
    const r = new ArrivalRecorder(client);
    client.on('message', (topic, payload) => {
      const now = performance.now();
      const id = ID_RE.exec(payload.toString('utf8', 0, Math.min(payload.length, 300)))?.[1];
      if (!id) return;
      if (topic.includes('/raw/')) {
        r.raws++;
        r.rawCount.set(id, (r.rawCount.get(id) ?? 0) + 1);
        return;
      }
      if (topic.endsWith('/reading')) r.readings++;
      else r.errors++;
      const n = r.count.get(id) ?? 0;
      r.count.set(id, n + 1);
      if (n === 0) r.first.set(id, now);
    });
    const topics = [`oms/v1/gw/${gatewayId}/+/+/reading`, `oms/v1/gw/${gatewayId}/errors/+`];
    if (o.raw) topics.push(`oms/v1/gw/${gatewayId}/raw/+`);
    await client.subscribeAsync(topics, { qos: 1 });
    return r;
  }

  /** Waits until every id in `ids` arrived; false on timeout. */
  async waitAll(ids: Iterable<string>, timeoutMs: number): Promise<boolean> {
    const want = [...ids];
    const end = Date.now() + timeoutMs;
    let i = 0;
    while (Date.now() < end) {
      while (i < want.length && this.first.has(want[i]!)) i++;
      if (i === want.length) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}

export interface E2eSummary {
  sent: number;
  arrived: number;
  missing: number;
  /** Extra arrivals of an id already seen (redeliveries). */
  duplicates: number;
  /** POST hand-over → reading at the subscriber, ms. */
  latency: LatencySummary;
  /** arrived / (last arrival − first POST), per s. */
  overallPerS: number;
  /** Arrivals between the 10th and 90th percentile arrival, per s: the steady drain rate. */
  steadyPerS: number;
  /** Last arrival − first POST, s. */
  spanS: number;
}

/** Joins POST send times with arrival times. */
export function e2eSummary(ids: Map<string, number>, rec: ArrivalRecorder): E2eSummary {
  const lat: number[] = [];
  const arrivals: number[] = [];
  let firstSend = Infinity;
  let duplicates = 0;
  for (const [id, sentAt] of ids) {
    firstSend = Math.min(firstSend, sentAt);
    const at = rec.first.get(id);
    if (at === undefined) continue;
    lat.push(at - sentAt);
    arrivals.push(at);
    duplicates += (rec.count.get(id) ?? 1) - 1;
  }
  arrivals.sort((a, b) => a - b);
  const n = arrivals.length;
  const last = arrivals[n - 1] ?? firstSend;
  const lo = Math.floor(n * 0.1);
  const hi = Math.max(lo, Math.ceil(n * 0.9) - 1);
  const steadyWindow = n > 10 ? (arrivals[hi]! - arrivals[lo]!) / 1000 : NaN;
  const spanS = (last - firstSend) / 1000;
  return {
    sent: ids.size, arrived: n, missing: ids.size - n, duplicates,
    latency: summarize(lat),
    overallPerS: n / spanS,
    steadyPerS: steadyWindow > 0 ? (hi - lo) / steadyWindow : NaN,
    spanS,
  };
}
