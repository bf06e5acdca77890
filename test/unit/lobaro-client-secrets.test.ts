import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LobaroClient } from '../../src/parser/lobaro/lobaro-client.js';

const KEY = '0102030405060708090A0B0C0D0E0F11';
const TOKEN = 'lobaro-token-0123456789';

describe('LobaroClient error details', () => {
  it('an error page that echoes the request does not carry the AES key or the token into the error', async () => {
    const server = createServer((req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${req.url} (auth ${req.headers.authorization})`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new LobaroClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: TOKEN, api: 'meterData', timeoutMs: 5_000, connections: 1 });
    try {
      const err = (await client.call('2e4493157856341233037a2a0020052f2f', KEY.toLowerCase(), {}).then(() => null, (e: unknown) => e)) as Error;
      expect(err.message).toMatch(/HTTP 404/);
      expect(err.message).toContain('[redacted]');
      expect(err.message.toUpperCase()).not.toContain(KEY);
      expect(err.message).not.toContain(TOKEN);
    } finally {
      await client.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
