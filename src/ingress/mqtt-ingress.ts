import { setTimeout as delay } from 'node:timers/promises';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { TlsSettings } from '../config/tls-settings.js';
import type { IngestService } from '../ingest/ingest-service.js';
import { backoffDelayMs } from '../lib/backoff.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { mqttTlsOptions } from '../publish/tls-options.js';
import { topicLevel } from '../publish/topics.js';
import { gatewayLevel, ingressFilter, parseIngressMessage, type IngressFilter } from './ingress-message.js';

export interface MqttIngressOptions {
  url: string;
  /** Stable across restarts (from INSTANCE_ID / MQTT_CLIENT_ID): the broker keeps unacknowledged messages in this session. */
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: TlsSettings | undefined;
  /** INGRESS_MQTT_TOPICS. */
  topics: string[];
  /** Shared-subscription group: instances in one group split the messages; undefined = plain subscriptions (the embedded broker has no $share). */
  group: string | undefined;
  /** Where refused messages go: `<prefix>/<gateway_id>` or `<prefix>/_invalid`. */
  errorPrefix?: string;
  /** MQTT keepalive, s (default 30). */
  keepaliveS?: number;
}

const INPUT_MAX = 2_048;

/**
 * Telegrams from MQTT (ESP32 raw bridges, gateways that publish instead of POST). Subscribes at QoS 1
 * on a persistent session and acknowledges a message (PUBACK) only once its telegram is in the
 * database — or, for a message that can never be stored, once its refusal is on the error topic. MQTT.js
 * sends the PUBACK when handleMessage calls back, and reads the next message only then, so a crash
 * between receive and write leaves the message with the broker, which delivers it again on reconnect.
 */
export class MqttIngress {
  private client: MqttClient | undefined;
  private readonly filters: IngressFilter[];
  private stopping = false;
  private readonly abort = new AbortController();
  /**
   * Counts connections. While a telegram cannot be stored its handler holds the connection's input, so the
   * broker's PINGRESP goes unread and MQTT.js reconnects after a keepalive; the broker then delivers the
   * message again to a new handler. A handler of an earlier connection gives up instead of retrying beside
   * it: two loops would store and acknowledge one message twice, and the second PUBACK could acknowledge a
   * newer message that reused the packet id before it was stored.
   */
  private connection = 0;

  constructor(
    private readonly opts: MqttIngressOptions,
    private readonly ingest: IngestService,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.filters = opts.topics.map(ingressFilter);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      // A persistent session: messages delivered but not acknowledged survive our crash at the broker.
      clean: false,
      reconnectPeriod: 1_000,
      connectTimeout: 5_000,
      keepalive: this.opts.keepaliveS ?? 30,
      resubscribe: true,
      // A refused CONNACK (broker starting, auth backend down, password fixed later) would end reconnecting for good.
      reconnectOnConnackError: true,
      ...mqttTlsOptions(this.opts.tls, this.opts.url),
    };
    const client = mqtt.connect(this.opts.url, options);
    client.handleMessage = (packet, done) => {
      // Without a call back no PUBACK goes out: the broker keeps the message (stopping, or a stale connection).
      this.handle(packet as IPublishPacket).then((ack) => ack && done(), (err: unknown) => done(err as Error));
    };
    client.on('close', () => {
      this.connection++;
    });
    client.on('connect', (ack) => {
      this.log.info({ clientId: this.opts.clientId, sessionPresent: ack.sessionPresent }, 'MQTT ingress connected');
      const subs = this.filters.map((f) => (this.opts.group === undefined ? f.subscription : `$share/${this.opts.group}/${f.subscription}`));
      client.subscribe(subs, { qos: 1 }, (err) => {
        if (err) this.log.error({ err: err.message, subs }, 'MQTT ingress subscribe failed');
      });
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT ingress connection error'));
    this.client = client;
  }

  /** Stops reading; a message in hand that is not yet stored stays unacknowledged, so the broker keeps it. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => {});
  }

  /** True when the message may be acknowledged (stored, or refused on the error topic). */
  private async handle(packet: IPublishPacket): Promise<boolean> {
    const connection = this.connection;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const claimed = gatewayLevel(this.filters, packet.topic);
    const parsed = parseIngressMessage(claimed, payload);
    if (!parsed.ok) {
      this.refuse(packet.topic, parsed.gatewayId, parsed.error, payload);
      return true;
    }
    for (let attempt = 1; !this.stopping && connection === this.connection; attempt++) {
      try {
        if (this.ingest.full()) throw new Error('queue or outbox full');
        const [result] = await this.ingest.acceptBatch([parsed.input]);
        this.events.emit('batchItems', {
          via: 'mqtt', gatewayId: parsed.input.gatewayId, accepted: result?.duplicate ? 0 : 1, duplicate: result?.duplicate ? 1 : 0,
          invalid: 0, repeated: result?.repeated ? 1 : 0,
        });
        // Stored; a connection lost meanwhile means the broker delivers it again (dedup answers that one).
        return connection === this.connection;
      } catch (err) {
        // Not stored: keep the message unacknowledged and try again (the broker holds the rest meanwhile).
        const backoff = backoffDelayMs(attempt, { policy: { baseMs: 200, capMs: 5_000 } });
        if (attempt === 1 || attempt % 20 === 0) this.log.warn({ err: (err as Error).message, attempt, delayMs: backoff }, 'MQTT ingress could not store a telegram; retrying');
        await delay(backoff, undefined, { signal: this.abort.signal }).catch(() => {});
      }
    }
    return false;
  }

  private refuse(topic: string, gatewayId: string | undefined, error: { code: string; message: string; details?: unknown }, payload: Buffer): void {
    this.events.emit('batchItems', { via: 'mqtt', gatewayId: undefined, accepted: 0, duplicate: 0, invalid: 1, repeated: 0 });
    const prefix = this.opts.errorPrefix ?? 'oms/v1/ingest-errors';
    const errorTopic = `${prefix}/${gatewayId === undefined ? '_invalid' : topicLevel(gatewayId)}`;
    const body = JSON.stringify({ error, topic, input: payload.toString('utf8').slice(0, INPUT_MAX), at: new Date().toISOString() });
    this.log.info({ topic, code: error.code }, 'MQTT ingress refused a message');
    // Not awaited: the broker's PUBACK for it is read only after this handler returns (MQTT.js handles
    // incoming packets one at a time), so waiting here would stall the connection. MQTT.js resends it after a reconnect.
    this.client?.publish(errorTopic, body, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message, errorTopic }, 'publishing an ingress error failed');
    });
  }
}
