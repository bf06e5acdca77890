import mqtt, { type MqttClient } from 'mqtt';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { classifyTlsFailure, type TlsFailure } from './tls-failure.js';
import { mqttTlsOptions } from './tls-options.js';
import type { TlsSettings } from '../config/tls-settings.js';

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  statusTopic: string;
  /** CA, client certificate, SNI; used for every reconnect. Only for mqtts:// and wss://. */
  tls?: TlsSettings | undefined;
  /** Variable prefix named in TLS failure hints (`MQTT`, `INGRESS_MQTT`). */
  settingsPrefix?: string;
  /** Reconnect backoff bounds, ms. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/**
 * One persistent MQTT.js connection. Publishes the retained bridge status
 * `online` on every connect, with last will `offline` (zigbee2mqtt
 * convention). Reconnects with doubling delay. Never queues messages in RAM
 * while offline: callers check `connected` and keep the backlog in the outbox.
 * A TLS failure is logged once per outage (and again only if its reason
 * changes), not once per retry.
 */
export class MqttConnection {
  private client: MqttClient | undefined;
  private delay: number;
  private readonly connectWaiters = new Set<() => void>();
  private tlsFailure: TlsFailure | undefined;
  private readonly subscriptions = new Map<string, (payload: Buffer) => void>();

  constructor(
    private readonly opts: MqttConnectionOptions,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.delay = opts.reconnectMinMs ?? 500;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** QoS ≥ 1 messages sent and still waiting for their PUBACK (held by MQTT.js). */
  get unacknowledged(): number {
    return this.client ? Object.keys(this.client.outgoing).length : 0;
  }

  /** The TLS failure of the current outage; cleared on connect. */
  get lastTlsFailure(): TlsFailure | undefined {
    return this.tlsFailure;
  }

  start(): void {
    if (this.client) return;
    const min = this.opts.reconnectMinMs ?? 500;
    const max = this.opts.reconnectMaxMs ?? 30_000;
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      connectTimeout: 5_000,
      reconnectPeriod: min,
      keepalive: 30,
      queueQoSZero: false,
      // A refused CONNACK (broker starting, auth backend down, password fixed later) would end reconnecting for good.
      reconnectOnConnackError: true,
      will: { topic: this.opts.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...mqttTlsOptions(this.opts.tls, this.opts.url),
    });
    client.on('connect', () => {
      this.delay = min;
      this.tlsFailure = undefined;
      client.options.reconnectPeriod = min;
      this.log.info({ clientId: this.opts.clientId }, 'MQTT connected');
      client.publish(this.opts.statusTopic, 'online', { qos: 1, retain: true }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'publishing bridge status failed');
      });
      // clean sessions lose subscriptions on every reconnect.
      for (const topic of this.subscriptions.keys()) this.subscribeNow(client, topic);
      this.events.emit('mqttConnection', { connected: true });
      for (const w of this.connectWaiters) w();
      this.connectWaiters.clear();
    });
    client.on('close', () => {
      if (client.options.reconnectPeriod !== 0) {
        this.delay = Math.min(max, this.delay * 2);
        client.options.reconnectPeriod = this.delay;
      }
      this.events.emit('mqttConnection', { connected: false });
    });
    client.on('offline', () => this.log.warn({ retryInMs: this.delay }, 'MQTT broker unreachable; messages wait in the outbox'));
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload) => {
      try {
        this.subscriptions.get(topic)?.(payload);
      } catch (err) {
        this.log.error({ err, topic }, 'MQTT message handler failed');
      }
    });
    this.client = client;
  }

  /** Calls `handler` for every message on `topic` (exact topic, no wildcards), across reconnects. */
  subscribe(topic: string, handler: (payload: Buffer) => void): void {
    this.subscriptions.set(topic, handler);
    if (this.client?.connected) this.subscribeNow(this.client, topic);
  }

  private subscribeNow(client: MqttClient, topic: string): void {
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'MQTT subscribe failed');
    });
  }

  private onError(err: Error): void {
    const failure = classifyTlsFailure(err, this.opts.settingsPrefix);
    if (!failure) {
      this.log.warn({ err: err.message }, 'MQTT error');
      return;
    }
    // MQTT.js reports one handshake error up to twice per attempt, and retries for hours.
    if (this.tlsFailure?.reason === failure.reason) {
      this.log.debug({ reason: failure.reason, code: failure.code }, 'MQTT TLS handshake failed again');
      return;
    }
    this.tlsFailure = failure;
    this.log.error({ reason: failure.reason, code: failure.code, err: err.message }, `MQTT TLS handshake failed: ${failure.reason}; ${failure.hint}`);
  }

  /** Resolves on the next connect, or after `ms`. */
  waitForConnect(ms: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.connectWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.connectWaiters.add(done);
    });
  }

  /**
   * Resolves when the broker acknowledged the message (QoS ≥ 1) or it was written (QoS 0). With
   * `timeoutMs`, a message still unacknowledged then is rejected and MQTT.js lets go of it: the
   * caller keeps it (the outbox row), while MQTT.js would hold it, also across reconnects, until a
   * PUBACK that a clean session never brings: one more copy in memory per retry.
   */
  async publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean, timeoutMs?: number): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('MQTT not connected');
    const before = client.getLastMessageId();
    const sent = client.publishAsync(topic, payload, { qos, retain });
    if (timeoutMs === undefined) {
      await sent;
      return;
    }
    // MQTT.js allocates the id at once unless it queues the publish behind a reconnect's replay; then it stays.
    const id = qos > 0 && client.getLastMessageId() !== before ? client.getLastMessageId() : undefined;
    try {
      await withTimeout(sent, timeoutMs);
    } catch (err) {
      if (id !== undefined && err instanceof TimeoutError) client.removeOutgoingMessage(id);
      throw err;
    }
  }

  /** Publishes the retained `offline` status (a clean stop does not fire the will), then disconnects. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    client.options.reconnectPeriod = 0;
    if (client.connected) {
      try {
        await withTimeout(client.publishAsync(this.opts.statusTopic, 'offline', { qos: 1, retain: true }), 2_000);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not publish offline status');
      }
    }
    await withTimeout(client.endAsync(false), 3_000).catch(() => client.end(true));
    for (const w of this.connectWaiters) w();
  }
}

class TimeoutError extends Error {}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
