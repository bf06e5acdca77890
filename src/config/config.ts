import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { loadDriverRegistry } from '../drivers/load.js';
import { errorMessage } from '../lib/errors.js';
import { parseGatewayKeys, type GatewayKeys } from './gateway-keys.js';
import { loadTlsSettings, type TlsSettings } from './tls-settings.js';

export type ParserKind = 'lobaro' | 'local' | 'auto';

/** The validated, frozen configuration. Every field maps to one environment variable (README § Configuration). */
export interface Config {
  appEnv: 'dev' | 'prod' | 'test';
  host: string;
  port: number;
  ingestApiKeys: GatewayKeys;
  /** True when INGEST_API_KEYS was unset in dev and a one-time key was generated. */
  generatedGatewayKey: string | undefined;
  adminToken: string | undefined;
  parser: ParserKind;
  lobaroToken: string | undefined;
  lobaroBaseUrl: string;
  lobaroApi: 'meterData' | 'mbus';
  lobaroTimeoutS: number;
  lobaroMaxAttempts: number;
  lobaroAuthPauseS: number;
  /** Upper bound of Lobaro calls/s per instance; undefined = learned from 429s only. */
  lobaroRateLimit: number | undefined;
  mqttUrl: string | undefined;
  embeddedMqttPort: number;
  mqttUsername: string | undefined;
  mqttPassword: string | undefined;
  /** MQTT_CA_FILE … MQTT_TLS_INSECURE, files already read and checked; undefined = defaults. */
  mqttTls: TlsSettings | undefined;
  mqttClientId: string;
  mqttTopicTemplate: string;
  mqttQos: 0 | 1 | 2;
  mqttRetain: boolean;
  databaseUrl: string;
  enableDedup: boolean;
  dedupWindowS: number;
  nWorkers: number;
  queueMax: number;
  outboxMax: number;
  keyPolicy: 'strict' | 'lenient';
  /** Take a plaintext body under an encryption header as already decrypted (lab data); readings then say authenticated:false. */
  acceptPredecrypted: boolean;
  mappingsFile: string;
  /** Folder of user meter drivers (JSON files, schemas/driver.schema.json); undefined = built-in drivers only. */
  driversDir: string | undefined;
  logLevel: string;
  syncTimeoutS: number;
  instanceId: string;
  keyEncryptionSecret: string | undefined;
  metricsToken: string | undefined;
  /** Requests/s per gateway; undefined = no limit. */
  ingestRateLimit: number | undefined;
  jobLeaseS: number;
  jobMaxClaims: number;
  sqliteMaxSizeMb: number | undefined;
  /** Run the pipeline (parsing, publishing) in a worker thread, apart from the event loop that answers gateways. */
  pipelineThread: boolean;
  /** Nice value of the pipeline thread (0–19, Linux): ingest gets the CPU first when it is short. */
  pipelineNice: number;
  /** Finished telegrams older than this are deleted; 0 keeps them forever. */
  retentionDays: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** `?sync=true` is served; false by default in prod. */
  allowSync: boolean;
  /** Most telegrams one replay request re-queues. */
  replayMax: number;
  /** Most meters on the "keys needed" list; the longest unseen leave first. */
  keyMissingMax: number;
  /** Entries of the "keys needed" list unseen for this many days are dropped. */
  keyMissingMaxAgeDays: number;
  /** Largest body of POST /v1/telegrams/batch, bytes (413 beyond). */
  batchMaxBytes: number;
  /** MQTT ingress topic filters with a {gateway_id} level; empty = ingress off. */
  ingressMqttTopics: string[];
  /** Broker of the MQTT ingress; undefined = the bridge's own broker connection (MQTT_URL or the embedded one). */
  ingressMqttUrl: string | undefined;
  ingressMqttUsername: string | undefined;
  ingressMqttPassword: string | undefined;
  /** INGRESS_MQTT_CA_FILE …; undefined = defaults. */
  ingressMqttTls: TlsSettings | undefined;
  /** Shared-subscription group, so several instances split the ingress topics. */
  ingressMqttGroup: string;
  /** Publish Home Assistant MQTT discovery and per-meter flat state (opt-in). */
  haDiscovery: boolean;
  /** HA's discovery prefix; configs go to `<prefix>/device/<id>/config`, HA's birth message to `<prefix>/status`. */
  haDiscoveryPrefix: string;
  /** A meter is stale after this many learned send intervals without a telegram. */
  meterStaleIntervals: number;
  /** …but never before this many seconds of silence. */
  meterStaleMinS: number;
  /** GATEWAY_SILENT_S: a gateway without an accepted telegram for this long is `silent`. */
  gatewaySilentS: number;
  /** DEDUP_SCOPE: `gateway` = one reading per gateway (the original design); `global` = one per radio transmission. */
  dedupScope: 'gateway' | 'global';
  /** MERGE_WINDOW_MS: receptions of one transmission this close to the first are merged (global scope). */
  mergeWindowMs: number;
  /** MERGE_TOPIC: a merged reading goes to the strongest gateway's reading topic or to oms/v1/meter/{meter_id}/reading. */
  mergeTopic: 'gateway' | 'meter';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the environment, collects every problem, throws one ConfigError listing them all. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const appEnv = read.oneOf('APP_ENV', ['dev', 'prod', 'test'] as const, 'dev');
  const lobaroToken = read.string('LOBARO_TOKEN');
  const parser = read.oneOf('PARSER', ['lobaro', 'local', 'auto'] as const, lobaroToken ? 'lobaro' : 'local');
  let generatedGatewayKey: string | undefined;
  let ingestApiKeys: GatewayKeys = new Map();
  const keysText = read.string('INGEST_API_KEYS');
  if (keysText !== undefined) {
    const parsed = parseGatewayKeys(keysText);
    if (typeof parsed === 'string') problems.push(`INGEST_API_KEYS: ${parsed}`);
    else ingestApiKeys = parsed;
  } else if (appEnv !== 'prod') {
    generatedGatewayKey = randomBytes(18).toString('base64url');
    ingestApiKeys = new Map([[generatedGatewayKey, '*']]);
  }

  const databaseUrl = read.databaseUrl('DATABASE_URL', 'sqlite:///./data/bridge.db');
  const cfg: Config = {
    appEnv,
    host: read.string('HOST') ?? '0.0.0.0',
    port: read.int('PORT', 8080, 0, 65535),
    ingestApiKeys,
    generatedGatewayKey,
    adminToken: read.string('ADMIN_TOKEN'),
    parser,
    lobaroToken,
    lobaroBaseUrl: read.url('LOBARO_BASE_URL', 'https://platform.lobaro.com', ['http:', 'https:']).replace(/\/+$/, ''),
    lobaroApi: read.oneOf('LOBARO_API', ['meterData', 'mbus'] as const, 'meterData'),
    lobaroTimeoutS: read.number('LOBARO_TIMEOUT_S', 10, 0.01, 600),
    lobaroMaxAttempts: read.int('LOBARO_MAX_ATTEMPTS', 3, 1, 100),
    lobaroAuthPauseS: read.number('LOBARO_AUTH_PAUSE_S', 60, 0.01, 86_400),
    lobaroRateLimit: read.string('LOBARO_RATE_LIMIT') === undefined ? undefined : read.number('LOBARO_RATE_LIMIT', 0, 0.1, 1_000_000),
    mqttUrl: read.optionalUrl('MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']),
    embeddedMqttPort: read.int('EMBEDDED_MQTT_PORT', 1883, 0, 65535),
    mqttUsername: read.string('MQTT_USERNAME'),
    mqttPassword: read.string('MQTT_PASSWORD'),
    mqttTls: loadTlsSettings(read, 'MQTT', problems),
    mqttClientId: '',
    mqttTopicTemplate: read.topicTemplate('MQTT_TOPIC_TEMPLATE', 'oms/v1/gw/{gateway_id}/meter/{meter_id}'),
    mqttQos: read.int('MQTT_QOS', 1, 0, 2) as 0 | 1 | 2,
    mqttRetain: read.bool('MQTT_RETAIN', false),
    databaseUrl,
    enableDedup: read.bool('ENABLE_DEDUP', true),
    dedupWindowS: read.int('DEDUP_WINDOW_S', 300, 1, 31 * 86_400),
    nWorkers: read.int('N_WORKERS', 8, 1, 1024),
    queueMax: read.int('QUEUE_MAX', 5000, 1, 10_000_000),
    outboxMax: read.int('OUTBOX_MAX', 100_000, 1, 100_000_000),
    keyPolicy: read.oneOf('KEY_POLICY', ['strict', 'lenient'] as const, 'strict'),
    acceptPredecrypted: read.bool('ACCEPT_PREDECRYPTED', false),
    mappingsFile: read.string('MAPPINGS_FILE') ?? './domainMappings.json',
    driversDir: read.string('DRIVERS_DIR'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    syncTimeoutS: read.number('SYNC_TIMEOUT_S', 15, 0.1, 120),
    instanceId: read.instanceId('INSTANCE_ID') ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 48)}-${randomBytes(3).toString('hex')}`,
    keyEncryptionSecret: read.string('KEY_ENCRYPTION_SECRET'),
    metricsToken: read.string('METRICS_TOKEN'),
    ingestRateLimit: read.string('INGEST_RATE_LIMIT') === undefined ? undefined : read.number('INGEST_RATE_LIMIT', 0, 0.01, 1_000_000),
    jobLeaseS: read.number('JOB_LEASE_S', 30, 1, 3_600),
    jobMaxClaims: read.int('JOB_MAX_CLAIMS', 5, 1, 1_000),
    sqliteMaxSizeMb: read.optionalInt('SQLITE_MAX_SIZE_MB', 1, 10_000_000),
    retentionDays: read.number('RETENTION_DAYS', 30, 0, 36_500),
    // An in-memory SQLite database is one connection that another thread cannot open.
    pipelineThread: read.bool('PIPELINE_THREAD', !databaseUrl.endsWith(':memory:')),
    pipelineNice: read.int('PIPELINE_NICE', 10, 0, 19),
    retryBaseMs: read.int('RETRY_BASE_MS', 1_000, 1, 3_600_000),
    retryMaxMs: read.int('RETRY_MAX_MS', 60_000, 1, 86_400_000),
    allowSync: read.bool('ALLOW_SYNC', appEnv !== 'prod'),
    replayMax: read.int('REPLAY_MAX', 10_000, 1, 1_000_000),
    keyMissingMax: read.int('KEY_MISSING_MAX', 10_000, 1, 10_000_000),
    keyMissingMaxAgeDays: read.number('KEY_MISSING_MAX_AGE_DAYS', 30, 0.001, 36_500),
    batchMaxBytes: read.int('BATCH_MAX_BYTES', 1_048_576, 1_024, 64 * 1_048_576),
    ingressMqttTopics: read.ingressTopics('INGRESS_MQTT_TOPICS'),
    ingressMqttUrl: read.optionalUrl('INGRESS_MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']),
    ingressMqttUsername: read.string('INGRESS_MQTT_USERNAME'),
    ingressMqttPassword: read.string('INGRESS_MQTT_PASSWORD'),
    ingressMqttTls: loadTlsSettings(read, 'INGRESS_MQTT', problems),
    ingressMqttGroup: read.instanceId('INGRESS_MQTT_GROUP') ?? 'oms-bridge',
    haDiscovery: read.bool('HA_DISCOVERY', false),
    haDiscoveryPrefix: read.topicPrefix('HA_DISCOVERY_PREFIX', 'homeassistant'),
    meterStaleIntervals: read.number('METER_STALE_INTERVALS', 3, 1, 1_000),
    meterStaleMinS: read.number('METER_STALE_MIN_S', 3_600, 1, 31 * 86_400),
    gatewaySilentS: read.number('GATEWAY_SILENT_S', 900, 1, 31 * 86_400),
    dedupScope: read.oneOf('DEDUP_SCOPE', ['gateway', 'global'] as const, 'gateway'),
    mergeWindowMs: read.int('MERGE_WINDOW_MS', 1_000, 10, 60_000),
    mergeTopic: read.oneOf('MERGE_TOPIC', ['gateway', 'meter'] as const, 'gateway'),
  };

  if (appEnv === 'prod') {
    if (keysText === undefined) problems.push('INGEST_API_KEYS: required when APP_ENV=prod');
    if (cfg.adminToken === undefined) problems.push('ADMIN_TOKEN: required when APP_ENV=prod');
    if (parser !== 'local' && lobaroToken === undefined) problems.push(`LOBARO_TOKEN: required when APP_ENV=prod and PARSER=${parser}`);
    if (cfg.keyEncryptionSecret === undefined) problems.push('KEY_ENCRYPTION_SECRET: required when APP_ENV=prod (AES keys are encrypted at rest)');
    // Short secrets fall to guessing; lengths as in README § Security.
    if (cfg.adminToken !== undefined && cfg.adminToken.length < 24) problems.push('ADMIN_TOKEN: must have at least 24 characters when APP_ENV=prod');
    const shortKeys = [...ingestApiKeys].filter(([key]) => key.length < 16).map(([, gw]) => gw);
    if (shortKeys.length > 0) problems.push(`INGEST_API_KEYS: keys must have at least 16 characters when APP_ENV=prod (gateway ${shortKeys.join(', ')})`);
    // The placeholders of docker/.env.example must never reach production.
    for (const name of ['INGEST_API_KEYS', 'ADMIN_TOKEN', 'KEY_ENCRYPTION_SECRET', 'LOBARO_TOKEN']) {
      if (env[name]?.toLowerCase().includes('changeme')) problems.push(`${name}: still holds the "changeme" placeholder`);
    }
  }
  if (cfg.pipelineThread && databaseUrl.endsWith(':memory:')) problems.push('PIPELINE_THREAD: must be false with an in-memory SQLite database (another thread cannot open it)');
  if (cfg.keyEncryptionSecret !== undefined && cfg.keyEncryptionSecret.length < 16) problems.push('KEY_ENCRYPTION_SECRET: must have at least 16 characters');
  if (parser !== 'local' && lobaroToken === undefined && appEnv !== 'prod') {
    problems.push(`LOBARO_TOKEN: required when PARSER=${parser}`);
  }
  if (cfg.mqttTls && !/^(mqtts|wss):/.test(cfg.mqttUrl ?? '')) problems.push('MQTT_URL: must be mqtts://… or wss://… when MQTT_CA_FILE, MQTT_CERT_FILE or another MQTT TLS setting is set');
  // Every driver file is checked now, so a broken one stops the start with its file, JSON path and problem.
  if (cfg.driversDir !== undefined) {
    try {
      loadDriverRegistry({ dir: cfg.driversDir });
    } catch (e) {
      problems.push(`DRIVERS_DIR: ${errorMessage(e)}`);
    }
  }
  if (cfg.ingressMqttTls && !/^(mqtts|wss):/.test(cfg.ingressMqttUrl ?? '')) problems.push('INGRESS_MQTT_URL: must be mqtts://… or wss://… when an INGRESS_MQTT TLS setting is set');
  if (cfg.mqttUsername === undefined && cfg.mqttPassword !== undefined) problems.push('MQTT_USERNAME: required when MQTT_PASSWORD is set');
  // Two instances never knock each other off the broker: the id is unique per process.
  cfg.mqttClientId = read.string('MQTT_CLIENT_ID') ?? `oms-bridge-${cfg.instanceId}`;
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(cfg);
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name}: must be one of ${allowed.join('|')}, got "${v}"`);
    return fallback;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push(`${name}: must be a number in [${min}, ${max}], got "${v}"`);
      return fallback;
    }
    return n;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      this.problems.push(`${name}: must be an integer in [${min}, ${max}], got "${v}"`);
      return fallback;
    }
    return n;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.string(name) === undefined ? undefined : this.int(name, min, min, max);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.string(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name}: must be true or false, got "${v}"`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    return this.optionalUrl(name, protocols) ?? fallback;
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v;
    } catch {
      this.problems.push(`${name}: must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`);
      return undefined;
    }
  }

  topicTemplate(name: string, fallback: string): string {
    const v = this.string(name) ?? fallback;
    // Without both placeholders one gateway could overwrite another gateway's or meter's readings.
    if (!v.includes('{meter_id}') || !v.includes('{gateway_id}') || /[+#]/.test(v) || v.startsWith('/') || v.endsWith('/')) {
      this.problems.push(`${name}: must contain {gateway_id} and {meter_id}, no + or #, and no leading or trailing /`);
      return fallback;
    }
    return v;
  }

  /** Comma-separated MQTT filters, each with exactly one whole `{gateway_id}` level and no `#` (the id must be one level). */
  ingressTopics(name: string): string[] {
    const v = this.string(name);
    if (v === undefined) return [];
    const filters = v.split(',').map((f) => f.trim()).filter((f) => f !== '');
    for (const f of filters) {
      const levels = f.split('/');
      if (levels.filter((l) => l === '{gateway_id}').length !== 1 || f.split('{gateway_id}').length !== 2 || f.includes('#') || f.startsWith('$')) {
        this.problems.push(`${name}: "${f}" must have exactly one whole {gateway_id} level, no # and no $ prefix (the bridge adds $share)`);
      }
    }
    return filters;
  }

  /** Topic levels without wildcards, e.g. `homeassistant`. */
  topicPrefix(name: string, fallback: string): string {
    const v = this.string(name) ?? fallback;
    if (/[+#\s]/.test(v) || v.startsWith('/') || v.endsWith('/')) {
      this.problems.push(`${name}: must be topic levels without + or #, spaces, or a leading or trailing /`);
      return fallback;
    }
    return v;
  }

  /** One MQTT topic level (the per-instance status topic) and a lock owner name. */
  instanceId(name: string): string | undefined {
    const v = this.string(name);
    if (v !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(v)) {
      this.problems.push(`${name}: must match [A-Za-z0-9._-]{1,64}`);
      return undefined;
    }
    return v;
  }

  databaseUrl(name: string, fallback: string): string {
    const v = this.string(name) ?? fallback;
    if (!/^sqlite:\/\/\/?.+/.test(v) && !/^postgres(ql)?:\/\//.test(v)) {
      this.problems.push(`${name}: must be sqlite:///<path> or postgres://…`);
      return fallback;
    }
    return v;
  }
}
