import type { Config } from '../config/config.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { birthConfigs } from '../homeassistant/ha-birth.js';
import { HaDiscovery } from '../homeassistant/ha-discovery.js';
import { FallbackParser } from '../parser/fallback-parser.js';
import { KeyResolver } from '../parser/key-resolver.js';
import { AdaptiveRateLimiter } from '../parser/lobaro/adaptive-rate-limiter.js';
import { CircuitBreaker, type CircuitState } from '../parser/lobaro/circuit-breaker.js';
import { LobaroClient } from '../parser/lobaro/lobaro-client.js';
import { LobaroParser } from '../parser/lobaro/lobaro-parser.js';
import { SharedCircuit } from '../parser/lobaro/shared-circuit.js';
import { loadDriverRegistry } from '../drivers/load.js';
import { LocalParser } from '../parser/local/local-parser.js';
import type { Parser } from '../parser/parser.js';
import { MqttConnection } from '../publish/mqtt-connection.js';
import { OutboxRelay } from '../publish/outbox-relay.js';
import { statusTopic, Topics } from '../publish/topics.js';
import type { KeyVault } from '../security/key-vault.js';
import type { MappingStore } from '../store/mapping-store.js';
import type { TelegramStore } from '../store/store.js';
import { JobProcessor } from '../worker/job-processor.js';
import { WorkerPool } from '../worker/worker-pool.js';

export interface PipelineStatus {
  mqttConnected: boolean;
  /** Why TLS to the broker fails in the current outage (e.g. `unknown_ca`); null when connected or not a TLS problem. */
  mqttTlsFailure: string | null;
  /** null without a Lobaro parser. */
  circuit: CircuitState | null;
  lastLobaroSuccessAt: number | null;
  /** Lobaro calls/s the rate limiter allows now (Infinity = no limit learned yet); null without a Lobaro parser. */
  lobaroRateLimit: number | null;
  inFlight: number;
  /** False while a pipeline thread is down (it is restarted). */
  running: boolean;
}

/**
 * Everything after the 202: worker pool, parser, outbox relay, MQTT. Runs in
 * its own thread (PipelineHost, the default) or inline behind the same
 * interface; buildPipeline() is the one place it is wired in either case.
 */
export interface Pipeline {
  start(mqttUrl: string): Promise<void>;
  /** Drains jobs in flight, flushes the outbox while the broker is reachable, disconnects. */
  stop(): Promise<void>;
  /** New work: a telegram was accepted or replayed. */
  wake(): void;
  status(): PipelineStatus;
}

/** Everything the pipeline uses, built and started by the caller (the composition root or the thread entry). */
export interface PipelineDeps {
  config: Readonly<Config>;
  store: TelegramStore;
  vault: KeyVault;
  mappings: MappingStore;
  events: EventBus;
  log: Logger;
}

/** Bridge version in HA's device registry (package.json). */
const BRIDGE_VERSION = '0.1.0';
/** Meters whose discovery configs are kept in memory for a re-publish on HA's birth message. */
const HA_MAX_METERS = 10_000;

/**
 * HA restarted (birth message): send every known config again. Direct, not through the
 * outbox: they are retained copies of configs already delivered, and HA only sends its
 * birth while the broker is up.
 */
async function republish(ha: HaDiscovery, store: TelegramStore, mqtt: MqttConnection, log: Logger): Promise<void> {
  const configs = await birthConfigs(ha, store, log);
  let failed = 0;
  for (const c of configs) await mqtt.publish(c.topic, c.payload, 1, true).catch(() => failed++);
  log.info({ configs: configs.length, failed }, 'Home Assistant came online; discovery re-published');
}

/** Builds the pipeline in this thread. A `mappingsChanged` event on `events` makes it re-read the active mapping. */
export function buildPipeline({ config, store, vault, mappings, events, log }: PipelineDeps): Pipeline {
  const topics = new Topics(config.mqttTopicTemplate);
  let lobaro: LobaroParser | undefined;
  let lobaroClient: LobaroClient | undefined;
  let breaker: CircuitBreaker | undefined;
  let limiter: AdaptiveRateLimiter | undefined;
  let shared: SharedCircuit | undefined;
  // Loaded again in this thread (config.ts already validated the files at boot): drivers are data, cheap to read.
  const drivers = loadDriverRegistry({ dir: config.driversDir });
  let parser: Parser = new LocalParser(drivers);
  if (config.parser !== 'local' && config.lobaroToken) {
    lobaroClient = new LobaroClient({
      baseUrl: config.lobaroBaseUrl, token: config.lobaroToken, api: config.lobaroApi,
      timeoutMs: config.lobaroTimeoutS * 1_000, connections: config.nWorkers,
    });
    breaker = new CircuitBreaker(config.lobaroAuthPauseS * 1_000, (state) => events.emit('circuit', { state }));
    shared = new SharedCircuit(store, breaker, log.child({ stage: 'lobaro' }));
    limiter = new AdaptiveRateLimiter({ maxRate: config.lobaroRateLimit ?? Number.POSITIVE_INFINITY });
    lobaro = new LobaroParser(lobaroClient, breaker, limiter, config.lobaroApi, events, log.child({ stage: 'lobaro' }), config.retryBaseMs);
    parser = config.parser === 'auto' ? new FallbackParser(lobaro, new LocalParser(drivers), log) : lobaro;
  }
  const status = statusTopic(config.databaseUrl, config.instanceId);
  const ha = config.haDiscovery
    ? new HaDiscovery({ prefix: config.haDiscoveryPrefix, statusTopic: status, swVersion: BRIDGE_VERSION, maxMeters: HA_MAX_METERS })
    : undefined;
  const processor = new JobProcessor(store, new KeyResolver(store, vault, { policy: config.keyPolicy, acceptPredecrypted: config.acceptPredecrypted }), parser, mappings, topics, events, log.child({ stage: 'worker' }), {
    maxAttempts: config.lobaroMaxAttempts,
    maxClaims: config.jobMaxClaims,
    backoff: { baseMs: config.retryBaseMs, capMs: config.retryMaxMs },
    qos: config.mqttQos,
    retainReadings: config.mqttRetain,
    stalePolicy: { intervals: config.meterStaleIntervals, minMs: config.meterStaleMinS * 1_000 },
    mergeTopic: config.dedupScope === 'global' ? config.mergeTopic : undefined,
  }, ha);
  const pool = new WorkerPool(store, processor, log.child({ stage: 'worker' }), {
    concurrency: config.nWorkers, instanceId: config.instanceId, leaseMs: config.jobLeaseS * 1_000, idlePollMs: 1_000,
  });
  let mqtt: MqttConnection | undefined;
  let relay: OutboxRelay | undefined;
  let unsubscribe: (() => void) | undefined;
  const offFinished = events.on('jobFinished', () => relay?.wake());
  const offMappings = events.on('mappingsChanged', () => void mappings.refresh());
  const offDeleted = events.on('meterDeleted', (e) => ha?.forget({ id: e.meterId, manufacturer: e.manufacturer }));

  return {
    async start(mqttUrl) {
      await shared?.start();
      mqtt = new MqttConnection({
        url: mqttUrl, clientId: config.mqttClientId, username: config.mqttUsername, password: config.mqttPassword,
        tls: config.mqttTls,
        statusTopic: status,
      }, events, log.child({ stage: 'mqtt' }));
      const conn = mqtt;
      if (ha) conn.subscribe(`${config.haDiscoveryPrefix}/status`, (payload) => {
        if (payload.toString('utf8') === 'online') void republish(ha, store, conn, log);
      });
      relay = new OutboxRelay(store, mqtt, events, log.child({ stage: 'outbox' }), {
        instanceId: config.instanceId, batchSize: 100, window: 8, leaseMs: 30_000, publishTimeoutMs: 10_000, idlePollMs: 1_000,
      });
      mqtt.start();
      relay.start();
      unsubscribe = store.onWorkAvailable(() => {
        pool.wake();
        relay?.wake();
      });
      pool.start();
    },

    async stop() {
      unsubscribe?.();
      offFinished();
      offMappings();
      offDeleted();
      await shared?.stop();
      // Calls waiting for a rate slot go back to the queue instead of holding up the drain.
      limiter?.close();
      await pool.stop(10_000);
      await relay?.stop(5_000);
      await mqtt?.stop();
      await lobaroClient?.close().catch(() => undefined);
    },

    wake() {
      pool.wake();
      relay?.wake();
    },

    status() {
      return {
        mqttConnected: mqtt?.connected ?? false,
        mqttTlsFailure: mqtt?.lastTlsFailure?.reason ?? null,
        circuit: breaker?.current ?? null,
        lastLobaroSuccessAt: lobaro?.lastSuccessAt ?? null,
        lobaroRateLimit: limiter?.allowedRate ?? null,
        inFlight: pool.busy,
        running: true,
      };
    },
  };
}
