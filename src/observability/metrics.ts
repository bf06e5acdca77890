import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from './events.js';

export interface MetricSources {
  depths(): Promise<{ queue: number; outbox: number; oldestOutboxAt: number | null }>;
  mqttConnected(): boolean;
  /** Epoch ms; absent without MQTT_CERT_FILE (so is the gauge: a 0 would read as "expired"). */
  clientCertExpiresAt?: (() => number) | undefined;
  circuitState(): 'closed' | 'open' | 'half_open' | null;
  /** Lobaro calls/s allowed now (Infinity = no limit learned); null without Lobaro. */
  lobaroRateLimit(): number | null;
  /** Meters on the "key problems" list, per kind (issue 11). */
  keyProblemMeters(): Promise<Record<'key_missing' | 'wrong_key' | 'truncated' | 'unsupported_mode', number>>;
  /** Per gateway with a recent rx_time: gateway clock − server clock, s. */
  gatewayClockDrifts?: (() => Array<{ gatewayId: string; driftS: number }>) | undefined;
  /** Known gateways with their liveness (issue 12); the per-gateway series come from here. */
  gateways?: (() => Promise<Array<{ gatewayId: string; status: string; lastSeen: number }>>) | undefined;
  /** Meters by liveness status (issue 13). */
  meterCounts(): Promise<Record<'ok' | 'stale' | 'key_problem', number>>;
}

const CIRCUIT = { closed: 0, half_open: 1, open: 2 } as const;

/** Per-gateway series at most; later gateways share the label `_other` (a global key lets anyone name a gateway). */
export const GATEWAY_SERIES_MAX = 1_000;

/** The first GATEWAY_SERIES_MAX gateway ids keep their own label, for the life of the registry. */
export class GatewayLabels {
  private readonly known = new Set<string>();
  constructor(private readonly max = GATEWAY_SERIES_MAX) {}

  of(gatewayId: string): string {
    if (this.known.has(gatewayId)) return gatewayId;
    if (this.known.size >= this.max) return '_other';
    this.known.add(gatewayId);
    return gatewayId;
  }
}

/**
 * Prometheus metrics (`oms_bridge_*`), fed by pipeline events and by gauges
 * read at scrape time. One registry per app, so tests and several apps in one
 * process never share counters.
 */
export function createMetrics(events: EventBus, sources: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'oms_bridge_' });
  const r = [registry];

  const ingest = new Counter({ name: 'oms_bridge_ingest_requests_total', help: 'POST /v1/telegrams answers by gateway and outcome', labelNames: ['gateway', 'outcome'], registers: r });
  const ack = new Histogram({
    name: 'oms_bridge_ingest_ack_seconds', help: 'Time to answer POST /v1/telegrams', labelNames: ['status'], registers: r,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  const dedup = new Counter({ name: 'oms_bridge_ingest_dedup_hits_total', help: 'Telegrams answered as duplicates', registers: r });
  const jobs = new Counter({ name: 'oms_bridge_worker_jobs_total', help: 'Jobs by final status and error code', labelNames: ['status', 'code'], registers: r });
  const retries = new Counter({ name: 'oms_bridge_worker_retries_total', help: 'Parse attempts scheduled again', labelNames: ['code'], registers: r });
  const fenced = new Counter({ name: 'oms_bridge_jobs_fenced_total', help: 'Late job outcomes dropped because another worker held the lease', labelNames: ['outcome'], registers: r });
  const deferred = new Counter({ name: 'oms_bridge_jobs_deferred_total', help: 'Jobs queued again because the store failed under them (no attempt used)', labelNames: ['code'], registers: r });
  const lobaroLatency = new Histogram({
    name: 'oms_bridge_lobaro_request_seconds', help: 'Lobaro API request latency', registers: r,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const lobaroStatus = new Counter({ name: 'oms_bridge_lobaro_responses_total', help: 'Lobaro answers by HTTP status (or timeout/network)', labelNames: ['status'], registers: r });
  const published = new Counter({ name: 'oms_bridge_mqtt_published_total', help: 'Messages acknowledged by the broker, by topic kind', labelNames: ['kind'], registers: r });

  new Gauge({
    name: 'oms_bridge_queue_depth', help: 'Unfinished jobs (queued + in flight)', registers: r,
    async collect() { this.set((await sources.depths()).queue); },
  });
  new Gauge({
    name: 'oms_bridge_outbox_depth', help: 'Messages waiting for the broker', registers: r,
    async collect() { this.set((await sources.depths()).outbox); },
  });
  new Gauge({
    name: 'oms_bridge_outbox_oldest_age_seconds', help: 'Age of the oldest unpublished message (0 when empty)', registers: r,
    async collect() {
      const oldest = (await sources.depths()).oldestOutboxAt;
      this.set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1_000));
    },
  });
  new Gauge({
    name: 'oms_bridge_mqtt_connected', help: '1 while connected to the broker', registers: r,
    collect() { this.set(sources.mqttConnected() ? 1 : 0); },
  });
  const certExpiresAt = sources.clientCertExpiresAt;
  if (certExpiresAt) {
    new Gauge({
      name: 'oms_bridge_mqtt_client_cert_expiry_seconds', help: 'Seconds until the MQTT client certificate expires', registers: r,
      collect() { this.set((certExpiresAt() - Date.now()) / 1_000); },
    });
  }
  new Gauge({
    name: 'oms_bridge_lobaro_circuit_state', help: 'Lobaro circuit: 0 closed, 1 half-open, 2 open (absent without Lobaro)', registers: r,
    collect() {
      const s = sources.circuitState();
      if (s !== null) this.set(CIRCUIT[s]);
    },
  });
  new Gauge({
    name: 'oms_bridge_lobaro_rate_limit', help: 'Lobaro calls/s this instance allows itself now, learned from 429s (+Inf until the first; absent without Lobaro)', registers: r,
    collect() {
      const rate = sources.lobaroRateLimit();
      if (rate !== null) this.set(rate);
    },
  });
  new Gauge({
    name: 'oms_bridge_key_missing_meters', help: 'Meters seen with encrypted telegrams and no key', registers: r,
    async collect() { this.set((await sources.keyProblemMeters()).key_missing); },
  });
  new Gauge({
    name: 'oms_bridge_key_problem_meters', help: 'Meters whose latest telegram did not decrypt, by reason (key_missing, wrong_key, truncated, unsupported_mode)',
    labelNames: ['problem'], registers: r,
    async collect() {
      for (const [problem, n] of Object.entries(await sources.keyProblemMeters())) this.set({ problem }, n);
    },
  });

  const drifts = sources.gatewayClockDrifts;
  if (drifts) {
    new Gauge({
      name: 'oms_bridge_gateway_clock_drift_seconds', help: 'Gateway clock minus server clock (largest rx_time − receive time over 2 min)', labelNames: ['gateway'], registers: r,
      collect() {
        this.reset();
        for (const d of drifts()) this.set({ gateway: d.gatewayId }, d.driftS);
      },
    });
  }
  new Gauge({
    name: 'oms_bridge_meters', help: 'Meters by liveness status: ok, stale (silent for METER_STALE_INTERVALS intervals), key_problem (last telegram failed to decrypt)',
    labelNames: ['status'], registers: r,
    async collect() {
      for (const [status, n] of Object.entries(await sources.meterCounts())) this.set({ status }, n);
    },
  });
  const labels = new GatewayLabels();
  const gatewaySource = sources.gateways;
  if (gatewaySource) {
    new Gauge({
      name: 'oms_bridge_gateways', help: 'Known gateways by liveness: online, silent (nothing for GATEWAY_SILENT_S)', labelNames: ['status'], registers: r,
      async collect() {
        const counts: Record<string, number> = { online: 0, silent: 0 };
        for (const g of await gatewaySource()) if (g.status in counts) counts[g.status]! += 1;
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'oms_bridge_gateway_last_seen_seconds', help: 'Seconds since the gateway\'s last accepted telegram (as of the last liveness check)', labelNames: ['gateway'], registers: r,
      async collect() {
        this.reset();
        const now = Date.now();
        for (const g of await gatewaySource()) {
          const label = labels.of(g.gatewayId);
          if (label !== '_other') this.set({ gateway: label }, Math.max(0, (now - g.lastSeen) / 1_000));
        }
      },
    });
  }
  const gatewayTelegrams = new Counter({ name: 'oms_bridge_gateway_telegrams_total', help: 'Telegrams accepted per gateway (rate() × 60 = telegrams per minute)', labelNames: ['gateway'], registers: r });
  events.on('gatewayTelegrams', (e) => gatewayTelegrams.inc({ gateway: labels.of(e.gatewayId) }, e.count));
  const gatewayRejected = new Counter({ name: 'oms_bridge_gateway_rejected_total', help: 'Requests of an authenticated gateway that were refused (4xx/5xx)', labelNames: ['gateway'], registers: r });
  const gatewayChanges = new Counter({ name: 'oms_bridge_gateway_status_changes_total', help: 'Gateways going silent or coming back (counted on the instance that evaluated)', labelNames: ['status'], registers: r });
  events.on('gatewayStatus', (e) => gatewayChanges.inc({ status: e.status }));
  const stale = new Counter({ name: 'oms_bridge_meters_stale_total', help: 'Meters that went silent', registers: r });
  events.on('meterStale', () => stale.inc());

  events.on('ingestResponse', (e) => {
    const outcome = e.status === 202 || e.status === 200 ? 'accepted' : `rejected_${e.status}`;
    ingest.inc({ gateway: e.gatewayId === undefined ? 'unknown' : labels.of(e.gatewayId), outcome });
    if (e.status >= 400 && e.gatewayId !== undefined) gatewayRejected.inc({ gateway: labels.of(e.gatewayId) });
    ack.observe({ status: String(e.status) }, e.durationMs / 1_000);
  });
  events.on('duplicate', () => dedup.inc());
  const items = new Counter({ name: 'oms_bridge_ingest_items_total', help: 'Telegrams of batch uploads and MQTT ingress by way in and outcome', labelNames: ['via', 'outcome'], registers: r });
  events.on('batchItems', (e) => {
    for (const outcome of ['accepted', 'duplicate', 'invalid', 'repeated'] as const) if (e[outcome] > 0) items.inc({ via: e.via, outcome }, e[outcome]);
  });
  events.on('jobFinished', (e) => jobs.inc({ status: e.status, code: e.code ?? '' }));
  events.on('jobRetry', (e) => retries.inc({ code: e.code }));
  events.on('jobFenced', (e) => fenced.inc({ outcome: e.outcome }));
  events.on('jobDeferred', (e) => deferred.inc({ code: e.code }));
  events.on('lobaroRequest', (e) => {
    lobaroStatus.inc({ status: String(e.status) });
    if (typeof e.status === 'number') lobaroLatency.observe(e.durationMs / 1_000);
  });
  events.on('published', (e) => published.inc({ kind: e.topicKind }, e.count));
  return registry;
}
