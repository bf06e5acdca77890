import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { parseGatewayKeys } from '../../src/config/gateway-keys.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('has the documented defaults and is frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      appEnv: 'dev', port: 8080, lobaroBaseUrl: 'https://platform.lobaro.com', lobaroApi: 'meterData', lobaroTimeoutS: 10,
      lobaroMaxAttempts: 3, lobaroAuthPauseS: 60, mqttTopicTemplate: 'oms/v1/gw/{gateway_id}/meter/{meter_id}', mqttQos: 1,
      mqttRetain: false, databaseUrl: 'sqlite:///./data/bridge.db', enableDedup: true, dedupWindowS: 300, nWorkers: 8,
      queueMax: 5000, outboxMax: 100000, keyPolicy: 'strict', mappingsFile: './domainMappings.json', parser: 'local', embeddedMqttPort: 1883,
    });
    expect(c.mqttUrl).toBeUndefined();
    expect(c.mqttClientId).toMatch(/^oms-bridge-.+-[0-9a-f]{6}$/);
    expect(loadConfig({}).mqttClientId).not.toBe(c.mqttClientId);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('receivers: ingress topics need one whole {gateway_id} level and no #; batch and group defaults', () => {
    const c = loadConfig({ INGRESS_MQTT_TOPICS: ' wmbus/{gateway_id}/telegram , oms/v1/ingest/{gateway_id}' });
    expect(c.ingressMqttTopics).toEqual(['wmbus/{gateway_id}/telegram', 'oms/v1/ingest/{gateway_id}']);
    expect(c).toMatchObject({ batchMaxBytes: 1_048_576, ingressMqttGroup: 'oms-bridge', ingressMqttUrl: undefined });
    expect(loadConfig({}).ingressMqttTopics).toEqual([]);
    for (const bad of ['wmbus/+/telegram', 'wmbus/{gateway_id}/#', 'gw-{gateway_id}/x', 'a/{gateway_id}/{gateway_id}', '$share/g/{gateway_id}']) {
      expect(problems({ INGRESS_MQTT_TOPICS: bad }).join('\n')).toMatch(/^INGRESS_MQTT_TOPICS: /);
    }
    expect(problems({ INGRESS_MQTT_TLS_INSECURE: 'true' }).join('\n')).toMatch(/INGRESS_MQTT_URL: must be mqtts/);
  });

  it('generates a one-time global gateway key in dev when INGEST_API_KEYS is unset', () => {
    const c = loadConfig({ APP_ENV: 'dev' });
    expect(c.generatedGatewayKey).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(c.ingestApiKeys.get(c.generatedGatewayKey!)).toBe('*');
  });

  it('names the variable of every invalid value', () => {
    const p = problems({
      PORT: 'abc', MQTT_QOS: '3', MQTT_RETAIN: 'maybe', LOBARO_API: 'rest', MQTT_URL: 'http://x', KEY_POLICY: 'loose',
      N_WORKERS: '0', DEDUP_WINDOW_S: '-1', DATABASE_URL: 'mysql://x', MQTT_TOPIC_TEMPLATE: 'a/+/b', LOBARO_TIMEOUT_S: 'x',
      ENABLE_DEDUP: 'x', LOG_LEVEL: 'loud', INGEST_API_KEYS: 'nocolon',
    });
    for (const name of ['PORT', 'MQTT_QOS', 'MQTT_RETAIN', 'LOBARO_API', 'MQTT_URL', 'KEY_POLICY', 'N_WORKERS', 'DEDUP_WINDOW_S',
      'DATABASE_URL', 'MQTT_TOPIC_TEMPLATE', 'LOBARO_TIMEOUT_S', 'ENABLE_DEDUP', 'LOG_LEVEL', 'INGEST_API_KEYS']) {
      expect(p.some((line) => line.startsWith(`${name}:`)), name).toBe(true);
    }
  });

  it('runs the pipeline in its own thread by default, except on an in-memory database', () => {
    expect(loadConfig({}).pipelineThread).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).pipelineThread).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'sqlite:///:memory:' }).pipelineThread).toBe(false);
    expect(loadConfig({ PIPELINE_THREAD: 'false' }).pipelineThread).toBe(false);
    expect(loadConfig({}).pipelineNice).toBe(10);
    expect(loadConfig({ PIPELINE_NICE: '0' }).pipelineNice).toBe(0);
    expect(() => loadConfig({ PIPELINE_NICE: '20' })).toThrow(/PIPELINE_NICE/);
  });

  it('refuses pre-decrypted telegrams unless ACCEPT_PREDECRYPTED=true', () => {
    expect(loadConfig({}).acceptPredecrypted).toBe(false);
    expect(loadConfig({ ACCEPT_PREDECRYPTED: 'true' }).acceptPredecrypted).toBe(true);
    expect(problems({ ACCEPT_PREDECRYPTED: 'sometimes' }).some((l) => l.startsWith('ACCEPT_PREDECRYPTED:'))).toBe(true);
  });

  it('accepts mqtt, mqtts and ws broker URLs', () => {
    for (const url of ['mqtt://h:1883', 'mqtts://h:8883', 'ws://h:9001/mqtt']) expect(loadConfig({ MQTT_URL: url }).mqttUrl).toBe(url);
  });

  it('refuses prod without INGEST_API_KEYS, ADMIN_TOKEN, LOBARO_TOKEN and KEY_ENCRYPTION_SECRET (one line each)', () => {
    const p = problems({ APP_ENV: 'prod', PARSER: 'lobaro' });
    expect(p).toEqual([
      'INGEST_API_KEYS: required when APP_ENV=prod',
      'ADMIN_TOKEN: required when APP_ENV=prod',
      'LOBARO_TOKEN: required when APP_ENV=prod and PARSER=lobaro',
      'KEY_ENCRYPTION_SECRET: required when APP_ENV=prod (AES keys are encrypted at rest)',
    ]);
    expect(problems({ APP_ENV: 'prod', PARSER: 'local', INGEST_API_KEYS: 'gw1:abcdefgh12345678', ADMIN_TOKEN: 'x'.repeat(24), KEY_ENCRYPTION_SECRET: 'sixteen-chars-ok' })).toEqual([]);
    expect(problems({ KEY_ENCRYPTION_SECRET: 'short' })).toEqual(['KEY_ENCRYPTION_SECRET: must have at least 16 characters']);
    expect(problems({ APP_ENV: 'prod', PARSER: 'local', INGEST_API_KEYS: 'gw1:changeme-gateway-key-1', ADMIN_TOKEN: 'changeme-admin-token-0000', KEY_ENCRYPTION_SECRET: 'sixteen-chars-ok' }))
      .toEqual(['INGEST_API_KEYS: still holds the "changeme" placeholder', 'ADMIN_TOKEN: still holds the "changeme" placeholder']);
  });

  it('refuses short tokens in prod: ADMIN_TOKEN < 24, gateway keys < 16 characters (issue 10)', () => {
    expect(problems({ APP_ENV: 'prod', PARSER: 'local', INGEST_API_KEYS: 'gw1:abcdefgh12;gw2:abcdefgh12345678', ADMIN_TOKEN: 'x'.repeat(23), KEY_ENCRYPTION_SECRET: 'sixteen-chars-ok' })).toEqual([
      'ADMIN_TOKEN: must have at least 24 characters when APP_ENV=prod',
      'INGEST_API_KEYS: keys must have at least 16 characters when APP_ENV=prod (gateway gw1)',
    ]);
    // Outside prod short lab tokens stay possible.
    expect(problems({ INGEST_API_KEYS: 'gw1:abcdefgh12', ADMIN_TOKEN: 'x' })).toEqual([]);
  });

  it('refuses a topic template without {gateway_id} or {meter_id} (issue 10)', () => {
    expect(problems({ MQTT_TOPIC_TEMPLATE: 'oms/{meter_id}' })).toEqual([
      'MQTT_TOPIC_TEMPLATE: must contain {gateway_id} and {meter_id}, no + or #, and no leading or trailing /',
    ]);
    expect(problems({ MQTT_TOPIC_TEMPLATE: 'oms/{gateway_id}' })).toHaveLength(1);
    expect(problems({ MQTT_TOPIC_TEMPLATE: 'site/{gateway_id}/{meter_id}' })).toEqual([]);
  });

  it('serves ?sync=true outside prod by default, in prod only with ALLOW_SYNC=true (issue 10)', () => {
    const prod = { APP_ENV: 'prod', PARSER: 'local', INGEST_API_KEYS: 'gw1:abcdefgh12345678', ADMIN_TOKEN: 'x'.repeat(24), KEY_ENCRYPTION_SECRET: 'sixteen-chars-ok' };
    expect(loadConfig({}).allowSync).toBe(true);
    expect(loadConfig(prod).allowSync).toBe(false);
    expect(loadConfig({ ...prod, ALLOW_SYNC: 'true' }).allowSync).toBe(true);
    expect(loadConfig({}).replayMax).toBe(10_000);
  });

  it('picks lobaro as parser when a token is set, local otherwise', () => {
    expect(loadConfig({ LOBARO_TOKEN: 't' }).parser).toBe('lobaro');
    expect(loadConfig({}).parser).toBe('local');
    expect(problems({ PARSER: 'auto' })).toEqual(['LOBARO_TOKEN: required when PARSER=auto']);
  });
});

describe('parseGatewayKeys', () => {
  it('parses per-gateway and global keys', () => {
    const keys = parseGatewayKeys('gw1:key1-aaaa; gw2:key2-bbbb;*:global-key');
    expect(keys).toEqual(new Map([['key1-aaaa', 'gw1'], ['key2-bbbb', 'gw2'], ['global-key', '*']]));
  });

  it.each([
    ['', /no entries/],
    ['gw1', /not <gateway_id>:<key>/],
    ['gw/1:abcdefgh', /gateway id/],
    ['gw1:short', /at least 8/],
    ['gw1:abcdefgh;gw2:abcdefgh', /twice/],
  ])('rejects %j', (text, re) => {
    expect(parseGatewayKeys(text)).toMatch(re);
  });
});
