import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../../src/publish/embedded-broker.js';

export interface TestBroker {
  url: string;
  kind: 'mosquitto' | 'aedes';
  stop(): Promise<void>;
}

/**
 * The broker integration tests run against: the machine's Mosquitto when
 * MQTT_TEST_URL is set (CI sets it), else an in-process aedes on a free port.
 */
export async function startTestBroker(): Promise<TestBroker> {
  const external = process.env.MQTT_TEST_URL;
  if (external) return { url: external, kind: 'mosquitto', stop: async () => {} };
  const broker = new EmbeddedBroker(0);
  await broker.start();
  return { url: broker.url, kind: 'aedes', stop: () => broker.stop() };
}

export interface Received {
  topic: string;
  payload: string;
  json: Record<string, unknown>;
  retain: boolean;
  /** Arrival time, epoch ms. */
  at: number;
}

/** Subscribes and collects messages; `waitFor` polls until a predicate holds. */
export class Collector {
  readonly messages: Received[] = [];
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, topics: string[]): Promise<Collector> {
    const client = await mqtt.connectAsync(url, { clientId: `test-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200 });
    const c = new Collector(client);
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // status payloads are plain text
      }
      c.messages.push({ topic, payload: text, json, retain: packet.retain, at: Date.now() });
    });
    await client.subscribeAsync(topics, { qos: 1 });
    return c;
  }

  matching(re: RegExp): Received[] {
    return this.messages.filter((m) => re.test(m.topic));
  }

  async waitFor(pred: (msgs: Received[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.messages)) {
      if (Date.now() > end) throw new Error(`timed out; got ${this.messages.length} messages: ${this.messages.map((m) => m.topic).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
