import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/observability/events.js';
import { MqttConnection } from '../../../src/publish/mqtt-connection.js';

describe('MqttConnection', () => {
  it('keeps reconnecting after the broker refuses the login (CONNACK "not authorized") and connects once it accepts', async () => {
    let refusals = 2;
    const broker = await Aedes.createBroker({
      authenticate: (_client, _user, _pass, done) => {
        if (refusals-- > 0) return done(Object.assign(new Error('auth backend not ready'), { returnCode: 5 }), false);
        done(null, true);
      },
    });
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const log = pino({ enabled: false });
    const conn = new MqttConnection(
      { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, clientId: 'conn-refused-test', statusTopic: 'oms/v1/bridge/status', reconnectMinMs: 50, reconnectMaxMs: 200 },
      new EventBus(log), log,
    );
    try {
      conn.start();
      await expect.poll(() => conn.connected, { timeout: 10_000, interval: 50 }).toBe(true);
      expect(refusals).toBeLessThan(0);
    } finally {
      await conn.stop();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    }
  });
});

/** A broker that accepts connections and never acknowledges a PUBLISH; counts PUBLISH packets per connection. */
async function silentBroker(): Promise<{ url: string; publishes: number[]; dropAll: () => void; close: () => Promise<void> }> {
  const publishes: number[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    const conn = publishes.push(0) - 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        // Fixed header: type nibble, then the remaining length as a base-128 varint.
        let len = 0;
        let mul = 1;
        let i = 1;
        for (; i < buf.length && i <= 4; i++) {
          len += (buf[i]! & 0x7f) * mul;
          mul *= 128;
          if ((buf[i]! & 0x80) === 0) break;
        }
        if (i >= buf.length || buf.length < i + 1 + len) return;
        const type = buf[0]! >> 4;
        buf = buf.subarray(i + 1 + len);
        if (type === 1) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNECT → CONNACK accepted
        else if (type === 3) publishes[conn]!++;
        else if (type === 12) socket.write(Buffer.from([0xd0, 0x00])); // PINGREQ → PINGRESP
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publishes,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('MqttConnection.publish with a timeout', () => {
  it('lets go of a message the broker never acknowledged, so MQTT.js does not hold one more per retry', async () => {
    const broker = await silentBroker();
    const log = pino({ enabled: false });
    const conn = new MqttConnection(
      { url: broker.url, clientId: 'silent-broker-test', statusTopic: 'oms/v1/bridge/status', reconnectMinMs: 50, reconnectMaxMs: 200 },
      new EventBus(log), log,
    );
    try {
      conn.start();
      await expect.poll(() => conn.connected, { timeout: 5_000, interval: 20 }).toBe(true);
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => conn.publish(`t/${i}`, 'x', 1, false, 100)));
        expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
      }
      expect(broker.publishes[0]).toBe(16); // 15 + the connect's retained `online` status
      // Only the status (published without a timeout) is still waiting for its PUBACK, also after a reconnect.
      expect(conn.unacknowledged).toBe(1);
      broker.dropAll();
      await expect.poll(() => broker.publishes.length, { timeout: 5_000, interval: 20 }).toBe(2);
      await expect.poll(() => conn.connected, { timeout: 5_000, interval: 20 }).toBe(true);
      expect(conn.unacknowledged).toBeLessThanOrEqual(2);
    } finally {
      await conn.stop();
      broker.dropAll();
      await broker.close();
    }
  });
});
