import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { certificateWarnings, clientCertificate, clientCertStatus, tlsStartWarnings } from './config/tls-settings.js';
import { GatewayAuth } from './http/gateway-auth.js';
import { buildHttpServer } from './http/server.js';
import type { HealthSnapshot } from './http/routes/health.js';
import { IngestService } from './ingest/ingest-service.js';
import { MqttIngress } from './ingress/mqtt-ingress.js';
import { ResultWaiter } from './ingest/result-waiter.js';
import { EventBus } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { AdminAuth } from './http/admin-auth.js';
import { adminPlugin } from './http/routes/admin/index.js';
import { metricsPlugin } from './http/routes/metrics.js';
import { consolePlugin } from './http/console.js';
import { GatewayTracker } from './ingest/gateway-tracker.js';
import { RateLimiter } from './ingest/rate-limiter.js';
import { loadDriverRegistry } from './drivers/load.js';
import { createMetrics, GATEWAY_SERIES_MAX } from './observability/metrics.js';
import { OverviewTracker } from './observability/overview.js';
import { EmbeddedBroker } from './publish/embedded-broker.js';
import { KeyVault, openVault } from './security/key-vault.js';
import { MeterKeyService } from './security/meter-key-service.js';
import { Topics } from './publish/topics.js';
import { buildPipeline, type Pipeline } from './pipeline/pipeline.js';
import { PipelineHost } from './pipeline/pipeline-host.js';
import { WriteProbe } from './store/write-probe.js';
import { MappingStore } from './store/mapping-store.js';
import { createStore } from './store/create-store.js';
import { Retention } from './store/retention.js';
import { LivenessMonitor } from './liveness/liveness-monitor.js';
import { GatewayMonitor } from './liveness/gateway-monitor.js';
import type { TelegramStore } from './store/store.js';

export interface App {
  start(): Promise<void>;
  /** Idempotent; bounded in time. */
  stop(): Promise<void>;
  readonly http: FastifyInstance;
  readonly events: EventBus;
  readonly store: TelegramStore;
  /** Base URL of the HTTP server once started. */
  readonly url: string;
  /** The MQTT broker URL in use (the embedded one when MQTT_URL is unset). */
  readonly mqttUrl: string;
}

export interface AppOptions {
  /** Destination of the pipeline thread's log lines; stdout by default (tests capture them). */
  writeLog?: (line: string) => void;
}

/**
 * Composition root: builds every part in pipeline order and wires the
 * dependencies by hand. No module-level singletons. The pipeline after the
 * 202 is built by buildPipeline(), in its own thread (PipelineHost) or inline.
 */
export async function createApp(config: Readonly<Config>, log: Logger, opts: AppOptions = {}): Promise<App> {
  const events = new EventBus(log);
  const store = createStore(config.databaseUrl, { log: log.child({ stage: 'store' }), sqliteMaxSizeMb: config.sqliteMaxSizeMb });
  const mappings = new MappingStore(config.mappingsFile, store, log.child({ stage: 'mappings' }), { onChange: () => events.emit('mappingsChanged', {}) });
  const vault = new KeyVault();
  const keys = new MeterKeyService(store, vault);
  const topics = new Topics(config.mqttTopicTemplate);
  const embedded = config.mqttUrl === undefined ? new EmbeddedBroker(config.embeddedMqttPort) : undefined;

  const pipeline: Pipeline = config.pipelineThread
    ? new PipelineHost({ config, store, events, log: log.child({ stage: 'pipeline' }), writeLog: opts.writeLog ?? ((line) => process.stdout.write(line)) })
    : buildPipeline({ config, store, vault, mappings, events, log });
  const ingest = new IngestService(store, topics, events, log.child({ stage: 'ingest' }), {
    dedupWindowMs: config.enableDedup ? config.dedupWindowS * 1_000 : null,
    queueMax: config.queueMax, outboxMax: config.outboxMax, qos: config.mqttQos, depthRefreshMs: 500, clientIdTtlMs: 86_400_000,
    mergeWindowMs: config.dedupScope === 'global' ? config.mergeWindowMs : null,
  }, keys, () => pipeline.wake());

  const writeProbe = new WriteProbe(store);
  const snapshot = async (): Promise<HealthSnapshot> => {
    const p = pipeline.status();
    let database: HealthSnapshot['database'] = { ok: true, writable: true };
    // Depths as of the last background refresh (≤ 500 ms old): a probe every second must not count rows.
    const depths = ingest.currentDepths;
    try {
      await store.ping();
      const write = await writeProbe.check();
      // Reads still work on a full disk: alive, but not ready to accept.
      if (!write.ok) database = { ok: true, writable: false, error: `database cannot be written: ${write.error}` };
      else if (ingest.storageFullRecently()) database = { ok: true, writable: false, error: 'database is full: inserts failed within the last 5 s' };
    } catch (err) {
      database = { ok: false, writable: false, error: (err as Error).message };
    }
    return {
      database,
      mqtt: { connected: p.mqttConnected, tls_failure: p.mqttTlsFailure ?? undefined, client_cert: clientCertStatus(config.mqttTls) },
      queue: { depth: depths.queue, max: config.queueMax, in_flight: p.inFlight },
      outbox: { depth: depths.outbox, max: config.outboxMax },
      lobaro: p.circuit
        ? { circuit: p.circuit, last_success_at: p.lastLobaroSuccessAt ? new Date(p.lastLobaroSuccessAt).toISOString() : null }
        : null,
      parser: config.parser,
      pipeline: { running: p.running, thread: config.pipelineThread },
    };
  };

  const clientCert = clientCertificate(config.mqttTls);
  const gateways = new GatewayTracker(events, store);
  const registry = createMetrics(events, {
    gatewayClockDrifts: () => gateways.clockDrifts(),
    gateways: () => store.listGateways(GATEWAY_SERIES_MAX),
    depths: async () => ingest.currentDepths,
    mqttConnected: () => pipeline.status().mqttConnected,
    clientCertExpiresAt: clientCert && (() => clientCert.notAfter),
    circuitState: () => pipeline.status().circuit,
    lobaroRateLimit: () => pipeline.status().lobaroRateLimit,
    keyProblemMeters: () => store.countKeyProblems(),
    meterCounts: () => store.countMetersByStatus(),
  });
  const overview = new OverviewTracker({
    events, parser: config.parser, depths: () => ingest.currentDepths,
    pipeline: () => {
      const p = pipeline.status();
      return { circuit: p.circuit, mqttConnected: p.mqttConnected, running: p.running };
    },
    meterCounts: () => store.countMetersByStatus(),
  });
  const adminAuth = new AdminAuth(config.adminToken);
  const http = await buildHttpServer({
    log, events,
    telegrams: {
      ingest, auth: new GatewayAuth(config.ingestApiKeys), waiter: new ResultWaiter(events, store),
      syncTimeoutMs: config.syncTimeoutS * 1_000, retryAfterS: 5, allowSync: config.allowSync,
      batchMaxBytes: config.batchMaxBytes, onBatch: (counts) => events.emit('batchItems', { via: 'http', ...counts }),
      rateLimiter: config.ingestRateLimit === undefined ? undefined : new RateLimiter(config.ingestRateLimit),
    },
    health: { snapshot, isAdmin: (authorization) => adminAuth.check(authorization) !== undefined },
    plugins: [
      adminPlugin(adminAuth, {
        store, keys, mappings, gateways, overview, drivers: loadDriverRegistry({ dir: config.driversDir }), wakeWorkers: () => pipeline.wake(), replayMax: config.replayMax,
        queueRoom: async () => config.queueMax - (await store.depths()).queue,
        haDiscoveryPrefix: config.haDiscovery ? config.haDiscoveryPrefix : undefined,
        meterDeleted: (meterId, manufacturer) => {
          events.emit('meterDeleted', { meterId, manufacturer });
          pipeline.wake();
        },
      }),
      metricsPlugin(registry, config.metricsToken),
      consolePlugin(),
    ],
  });

  // Opt-in (INGRESS_MQTT_TOPICS); on the main thread next to HTTP ingest, with its own connection.
  const ingress = config.ingressMqttTopics.length === 0 ? undefined : (url: string) => new MqttIngress({
    url: config.ingressMqttUrl ?? url, clientId: `${config.mqttClientId}-ingress`, topics: config.ingressMqttTopics,
    group: embedded && config.ingressMqttUrl === undefined ? undefined : config.ingressMqttGroup,
    ...(config.ingressMqttUrl === undefined
      ? { username: config.mqttUsername, password: config.mqttPassword, tls: config.mqttTls }
      : { username: config.ingressMqttUsername, password: config.ingressMqttPassword, tls: config.ingressMqttTls }),
  }, ingest, events, log.child({ stage: 'ingress' }));
  let mqttIngress: MqttIngress | undefined;

  const retention = new Retention(store, {
    retentionDays: config.retentionDays, keyMissingMax: config.keyMissingMax, keyMissingMaxAgeDays: config.keyMissingMaxAgeDays,
  }, log.child({ stage: 'retention' }));
  const liveness = new LivenessMonitor(store, events, log.child({ stage: 'liveness' }), { checkMs: 60_000, batch: 500, onQueued: () => pipeline.wake() });
  const gatewayMonitor = new GatewayMonitor(store, events, log.child({ stage: 'gateways' }), { silentMs: config.gatewaySilentS * 1_000, onQueued: () => pipeline.wake() });
  let certCheck: NodeJS.Timeout | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  let url = '';
  let mqttUrl = config.mqttUrl ?? '';

  const app: App = {
    http, events, store,
    get url() { return url; },
    get mqttUrl() { return mqttUrl; },

    async start() {
      await store.start();
      vault.adopt(await openVault(store, config.keyEncryptionSecret));
      const resealed = await keys.sealAtRest(log);
      if (resealed > 0) log.info({ resealed }, 'stored keys sealed in the current format');
      await mappings.start();
      for (const warning of tlsStartWarnings(config.mqttTls, 'MQTT')) log.warn(warning);
      if (config.parser !== 'local' && plainRemote(config.lobaroBaseUrl)) {
        log.warn({ lobaroBaseUrl: config.lobaroBaseUrl }, 'LOBARO_BASE_URL is plain http to another host: meter AES keys (the key query) and LOBARO_TOKEN cross the network unencrypted; use https');
      }
      if (embedded) {
        await embedded.start();
        mqttUrl = embedded.url;
        log.info({ address: mqttUrl }, 'embedded MQTT broker listening');
      }
      overview.start();
      await pipeline.start(mqttUrl);
      await ingest.start();
      mqttIngress = ingress?.(mqttUrl);
      await mqttIngress?.start();
      retention.start();
      liveness.start();
      gatewayMonitor.start();
      // A bridge that runs for months would otherwise warn about an ending certificate only at its last start.
      certCheck = setInterval(() => {
        for (const warning of certificateWarnings(config.mqttTls)) log.warn(warning);
      }, 86_400_000);
      certCheck.unref();
      url = await http.listen({ host: config.host, port: config.port });
      started = true;
      log.info({ listen: url, parser: config.parser, database: config.databaseUrl.split('://')[0], mqtt: embedded ? 'embedded' : 'external' }, 'bridge started');
    },

    stop() {
      stopping ??= (async () => {
        // Order: stop accepting → drain workers → flush outbox → disconnect → close DB.
        await http.close().catch((err: unknown) => log.error({ err }, 'closing HTTP failed'));
        await mqttIngress?.stop();
        await retention.stop();
        await liveness.stop();
        await gatewayMonitor.stop();
        if (certCheck) clearInterval(certCheck);
        await ingest.stop();
        await pipeline.stop();
        overview.stop();
        await embedded?.stop();
        await mappings.stop();
        await store.stop();
        events.removeAll();
        if (started) log.info('bridge stopped');
      })();
      return stopping;
    },
  };
  return app;
}

/** http:// to a host other than this machine (a local proxy on loopback is fine). */
function plainRemote(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}
