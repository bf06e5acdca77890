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
