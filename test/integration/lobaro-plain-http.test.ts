import { describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { startTestBroker } from '../helpers/mqtt.js';

describe('LOBARO_BASE_URL over plain http', () => {
  it('warns at start when keys and token would cross the network unencrypted; not for a proxy on loopback', async () => {
    const broker = await startTestBroker();
    try {
      for (const [url, warns] of [['http://parser.example.com', true], ['http://127.0.0.1:9', false], ['https://parser.example.com', false]] as const) {
        const t = await startTestApp({ MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: url });
        try {
          expect(t.logs.some((l) => l.includes('LOBARO_BASE_URL is plain http') && l.includes('"level":"warn"')), url).toBe(warns);
          expect(t.logs.join('\n')).not.toContain('"tok"');
        } finally {
          await t.stop();
        }
      }
    } finally {
      await broker.stop();
    }
  });
});
