import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { GatewayAuth } from './http/gateway-auth.js';
import { buildHttpServer } from './http/server.js';
import type { HealthSnapshot } from './http/routes/health.js';
import { IngestService } from './ingest/ingest-service.js';
import { ResultWaiter } from './ingest/result-waiter.js';
import { EventBus } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { FallbackParser } from './parser/fallback-parser.js';
import { KeyResolver } from './parser/key-resolver.js';
import { CircuitBreaker } from './parser/lobaro/circuit-breaker.js';
import { LobaroClient } from './parser/lobaro/lobaro-client.js';
import { LobaroParser } from './parser/lobaro/lobaro-parser.js';
import { SharedCircuit } from './parser/lobaro/shared-circuit.js';
import { LocalParser } from './parser/local/local-parser.js';
import type { Parser } from './parser/parser.js';
import { AdminAuth } from './http/admin-auth.js';
import { adminPlugin } from './http/routes/admin/index.js';
import { metricsPlugin } from './http/routes/metrics.js';
import { GatewayTracker } from './ingest/gateway-tracker.js';
import { RateLimiter } from './ingest/rate-limiter.js';
import { createMetrics } from './observability/metrics.js';
import { EmbeddedBroker } from './publish/embedded-broker.js';
import { KeyVault, openVault } from './security/key-vault.js';
import { MqttConnection } from './publish/mqtt-connection.js';
import { OutboxRelay } from './publish/outbox-relay.js';
import { statusTopic, Topics } from './publish/topics.js';
import { MappingStore } from './store/mapping-store.js';
import { createStore } from './store/create-store.js';
import type { TelegramStore } from './store/store.js';
import { JobProcessor } from './worker/job-processor.js';
import { WorkerPool } from './worker/worker-pool.js';

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

/**
 * Composition root: builds every part in pipeline order and wires the
 * dependencies by hand. No module-level singletons.
 */
export async function createApp(config: Readonly<Config>, log: Logger): Promise<App> {
  const events = new EventBus(log);
  const store = createStore(config.databaseUrl, { log: log.child({ stage: 'store' }) });
  const mappings = new MappingStore(config.mappingsFile, store, log.child({ stage: 'mappings' }));
  const vault = new KeyVault();
  const topics = new Topics(config.mqttTopicTemplate);
  const embedded = config.mqttUrl === undefined ? new EmbeddedBroker(config.embeddedMqttPort) : undefined;

  let lobaro: LobaroParser | undefined;
  let lobaroClient: LobaroClient | undefined;
  let breaker: CircuitBreaker | undefined;
  let sharedState: SharedCircuit | undefined;
  let parser: Parser = new LocalParser();
  if (config.parser !== 'local' && config.lobaroToken) {
    lobaroClient = new LobaroClient({
      baseUrl: config.lobaroBaseUrl, token: config.lobaroToken, api: config.lobaroApi,
      timeoutMs: config.lobaroTimeoutS * 1_000, connections: config.nWorkers,
    });
    breaker = new CircuitBreaker(config.lobaroAuthPauseS * 1_000, (state) => events.emit('circuit', { state }));
    sharedState = new SharedCircuit(store, breaker, log.child({ stage: 'lobaro' }));
    lobaro = new LobaroParser(lobaroClient, breaker, config.lobaroApi, events, log.child({ stage: 'lobaro' }), config.retryBaseMs);
    parser = config.parser === 'auto' ? new FallbackParser(lobaro, new LocalParser(), log) : lobaro;
  }

  const processor = new JobProcessor(store, new KeyResolver(store, vault, config.keyPolicy), parser, mappings, topics, events, log.child({ stage: 'worker' }), {
    maxAttempts: config.lobaroMaxAttempts,
    backoff: { baseMs: config.retryBaseMs, capMs: config.retryMaxMs },
    qos: config.mqttQos,
    retainReadings: config.mqttRetain,
  });
  const pool = new WorkerPool(store, processor, log.child({ stage: 'worker' }), {
    concurrency: config.nWorkers, instanceId: config.instanceId, leaseMs: config.jobLeaseS * 1_000, idlePollMs: 1_000,
  });
  let mqtt: MqttConnection | undefined;
  let relay: OutboxRelay | undefined;
  const ingest = new IngestService(store, topics, events, log.child({ stage: 'ingest' }), {
    dedupWindowMs: config.enableDedup ? config.dedupWindowS * 1_000 : null,
    queueMax: config.queueMax, outboxMax: config.outboxMax, qos: config.mqttQos, depthRefreshMs: 500,
  }, vault, () => {
    pool.wake();
    relay?.wake();
  });
  events.on('jobFinished', () => relay?.wake());

  const snapshot = async (): Promise<HealthSnapshot> => {
    let database: HealthSnapshot['database'] = { ok: true };
    let depths = ingest.currentDepths;
    try {
      await store.ping();
      depths = await store.depths();
    } catch (err) {
      database = { ok: false, error: (err as Error).message };
    }
    return {
      database,
      mqtt: { connected: mqtt?.connected ?? false },
      queue: { depth: depths.queue, max: config.queueMax, in_flight: pool.busy },
      outbox: { depth: depths.outbox, max: config.outboxMax },
      lobaro: lobaro && breaker
        ? { circuit: breaker.current, last_success_at: lobaro.lastSuccessAt ? new Date(lobaro.lastSuccessAt).toISOString() : null }
        : null,
      parser: config.parser,
    };
  };

  const registry = createMetrics(events, {
    depths: () => store.depths(),
    mqttConnected: () => mqtt?.connected ?? false,
    circuitState: () => breaker?.current ?? null,
    keyMissingMeters: () => store.countKeyMissing(),
  });
  const gateways = new GatewayTracker(events, store);
  const http = await buildHttpServer({
    log, events,
    telegrams: {
      ingest, auth: new GatewayAuth(config.ingestApiKeys), waiter: new ResultWaiter(events, store),
      syncTimeoutMs: config.syncTimeoutS * 1_000, retryAfterS: 5,
      rateLimiter: config.ingestRateLimit === undefined ? undefined : new RateLimiter(config.ingestRateLimit),
    },
    health: { snapshot },
    plugins: [
      adminPlugin(new AdminAuth(config.adminToken), { store, vault, mappings, gateways, wakeWorkers: () => pool.wake() }),
      metricsPlugin(registry, config.metricsToken),
    ],
  });

  let housekeeping: NodeJS.Timeout | undefined;
  let unsubscribeWork: (() => void) | undefined;
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
      await sealPlainKeys(store, vault);
      await mappings.start();
      await sharedState?.start();
      if (embedded) {
        await embedded.start();
        mqttUrl = embedded.url;
        log.info({ url: mqttUrl }, 'embedded MQTT broker listening');
      }
      mqtt = new MqttConnection({
        url: mqttUrl, clientId: config.mqttClientId, username: config.mqttUsername, password: config.mqttPassword,
        statusTopic: statusTopic(config.databaseUrl, config.instanceId),
      }, events, log.child({ stage: 'mqtt' }));
      relay = new OutboxRelay(store, mqtt, events, log.child({ stage: 'outbox' }), {
        instanceId: config.instanceId, batchSize: 100, leaseMs: 30_000, publishTimeoutMs: 10_000, idlePollMs: 1_000,
      });
      mqtt.start();
      relay.start();
      unsubscribeWork = store.onWorkAvailable(() => {
        pool.wake();
        relay?.wake();
      });
      await ingest.start();
      pool.start();
      housekeeping = setInterval(() => void housekeep(store, config.retentionDays, log), 60_000);
      housekeeping.unref();
      url = await http.listen({ host: config.host, port: config.port });
      started = true;
      log.info({ url, parser: config.parser, database: config.databaseUrl.split('://')[0], mqtt: embedded ? 'embedded' : 'external' }, 'bridge started');
    },

    stop() {
      stopping ??= (async () => {
        // Order: stop accepting → drain workers → flush outbox → disconnect → close DB.
        await http.close().catch((err: unknown) => log.error({ err }, 'closing HTTP failed'));
        unsubscribeWork?.();
        await sharedState?.stop();
        await pool.stop(10_000);
        if (housekeeping) clearInterval(housekeeping);
        await ingest.stop();
        await relay?.stop(5_000);
        await mqtt?.stop();
        await lobaroClient?.close().catch(() => undefined);
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

/** After KEY_ENCRYPTION_SECRET is first set, keys stored before are encrypted in place. */
async function sealPlainKeys(store: TelegramStore, vault: KeyVault): Promise<void> {
  if (!vault.encrypting) return;
  let cursor: string | null = null;
  do {
    const page = await store.listMeterKeys(1000, cursor);
    for (const k of page.items) {
      if (!KeyVault.isSealed(k.keyHex)) await store.putMeterKey(k.meterId, vault.seal(k.keyHex), k.manufacturer, k.updatedAt);
    }
    cursor = page.nextCursor;
  } while (cursor);
}

/** Expired dedup entries and, past RETENTION_DAYS, finished telegrams; bounded work per run. */
async function housekeep(store: TelegramStore, retentionDays: number, log: Logger): Promise<void> {
  try {
    const now = Date.now();
    await store.purgeDedup(now);
    if (retentionDays <= 0) return;
    let deleted = 0;
    for (let batch = 0; batch < 20; batch++) {
      const n = await store.purgeFinished(now - retentionDays * 86_400_000, 5_000);
      deleted += n;
      if (n < 5_000) break;
    }
    if (deleted > 0) log.info({ deleted, retentionDays }, 'old finished telegrams deleted');
  } catch (err) {
    log.error({ err }, 'housekeeping failed');
  }
}
