import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runForward } from '../../src/cli/forward.js';
import { GW_KEY, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';
import { freePort } from '../helpers/process.js';

const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';
const hexOf = (i: number) => `${PLAIN}${i.toString(16).padStart(4, '0')}`;

function io(stdin: PassThrough) {
  const err: string[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { err.push(c.toString()); cb(); } });
  return { io: { stdin, stdout: sink, stderr: sink }, err };
}

describe('oms-bridge forward', () => {
  let broker: TestBroker;
  let dir: string;
  let tokenFile: string;
  const gatewayId = `fwd-${Math.random().toString(16).slice(2, 8)}`;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = mkdtempSync(join(tmpdir(), 'oms-forward-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${GW_KEY}\n`);
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('spools while the bridge is down, delivers everything once it is up, exits 0 when stdin ended and all is acknowledged', async () => {
    const port = await freePort();
    const stdin = new PassThrough();
    const { io: cli, err } = io(stdin);
    const spool = join(dir, 'down.spool.jsonl');
    const run = runForward(['--url', `http://127.0.0.1:${port}`, '--gateway-id', gatewayId, '--token-file', tokenFile, '--spool', spool,
      '--batch-size', '7', '--linger-ms', '20', '--status-interval', '1', '--retry-base-ms', '50', '--retry-max-ms', '300'], cli, {});
    // rtl_wmbus, rtl_433 and hex lines mixed (format auto); one bad-CRC frame that must not be sent.
    for (let i = 0; i < 20; i++) stdin.write(`T1;1;1;2026-01-08 12:45:11.000;97;102;33225544;0x${hexOf(i)}\n`);
    stdin.write(`T1;0;1;2026-01-08 12:45:11.000;97;102;33225544;0x${hexOf(99)}\n`);
    for (let i = 20; i < 30; i++) stdin.write(`{"model":"Wireless-MBus","mode":"C","data":"${hexOf(i)}"}\n`);
    for (let i = 30; i < 40; i++) stdin.write(`${hexOf(i)}\n`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(readFileSync(spool, 'utf8').trim().split('\n')).toHaveLength(40);
    let t: TestApp | undefined;
    try {
      t = await startTestApp({ MQTT_URL: broker.url, PORT: String(port) }, { gatewayId });
      stdin.end();
      expect(await run).toBe(0);
      const stored = await t.app.store.listTelegrams({ gatewayId }, 100, null);
      expect(stored.items.map((x) => x.rssiDbm)).toHaveLength(40);
      expect(readFileSync(spool, 'utf8')).toBe('');
      expect(err.join('')).toMatch(/forward: read 40 sent \d+ acked 40 .*spooled 0/);
      expect(err.join('')).toMatch(/failures [1-9]/);
    } finally {
      await t?.stop();
    }
  }, 60_000);

  it('a restarted forwarder resends its spool with the same client_ids: nothing is stored twice', async () => {
    const t = await startTestApp({ MQTT_URL: broker.url }, { gatewayId });
    try {
      const spool = join(dir, 'resume.spool.jsonl');
      const items = [0, 1, 2].map((i) => ({ client_id: `old-run-${i}`, gateway_id: gatewayId, raw_hex: hexOf(500 + i) }));
      // The first upload of item 0 was stored, but its answer never reached the forwarder that then died.
      const first = await t.app.http.inject({ method: 'POST', url: '/v1/telegrams/batch', headers: { authorization: `Bearer ${GW_KEY}` }, payload: { items: [items[0]] } });
      const firstId = first.json().results[0].ingest_id as string;
      writeFileSync(spool, `${items.map((i) => JSON.stringify(i)).join('\n')}\n{"client_id":"torn`);
      const stdin = new PassThrough();
      stdin.end(`${hexOf(600)}\n`);
      const { io: cli, err } = io(stdin);
      expect(await runForward(['--url', t.app.url, '--gateway-id', gatewayId, '--token-file', tokenFile, '--spool', spool, '--status-interval', '0'], cli, {})).toBe(0);
      expect(err.join('')).toMatch(/3 telegram\(s\) from .* not yet acknowledged/);
      const stored = (await t.app.store.listTelegrams({ gatewayId }, 100, null)).items;
      const mine = stored.filter((x) => x.createdAt >= Date.now() - 60_000);
      expect(mine.filter((x) => x.ingestId === firstId)).toHaveLength(1);
      expect(mine).toHaveLength(4);
    } finally {
      await t.stop();
    }
  });

  it('halves its batches after a 413 (BATCH_MAX_BYTES smaller than its batches) and delivers everything', async () => {
    const t = await startTestApp({ MQTT_URL: broker.url, BATCH_MAX_BYTES: '4096' }, { gatewayId: `${gatewayId}-small` });
    try {
      const stdin = new PassThrough();
      stdin.end(Array.from({ length: 60 }, (_, i) => `${hexOf(800 + i)}\n`).join(''));
      const { io: cli, err } = io(stdin);
      const args = ['--url', t.app.url, '--gateway-id', t.gatewayId, '--spool', join(dir, 'small.spool.jsonl'), '--status-interval', '0', '--batch-size', '60'];
      expect(await runForward(args, cli, { OMS_BRIDGE_TOKEN: GW_KEY })).toBe(0);
      expect(err.join('')).toMatch(/too large \(413\)/);
      expect((await t.app.store.listTelegrams({ gatewayId: t.gatewayId }, 100, null)).items).toHaveLength(60);
    } finally {
      await t.stop();
    }
  });

  it('exits non-zero on 401 and keeps the spool; 2 on bad arguments', async () => {
    const t = await startTestApp({ MQTT_URL: broker.url });
    try {
      const spool = join(dir, 'denied.spool.jsonl');
      const stdin = new PassThrough();
      stdin.end(`${hexOf(700)}\n`);
      const { io: cli, err } = io(stdin);
      expect(await runForward(['--url', t.app.url, '--gateway-id', 'gw-x', '--spool', spool, '--status-interval', '0'], cli, { OMS_BRIDGE_TOKEN: 'wrong-key' })).toBe(1);
      expect(err.join('')).toMatch(/HTTP 401/);
      expect(readFileSync(spool, 'utf8').trim().split('\n')).toHaveLength(1);
      const { io: cli2, err: err2 } = io(new PassThrough());
      expect(await runForward(['--url', 'ftp://x', '--gateway-id', 'gw'], cli2, {})).toBe(2);
      expect(err2.join('')).toMatch(/--url/);
    } finally {
      await t.stop();
    }
  });

  /** A stand-in for a proxy in front of the bridge: answers each upload with the next of `answers`, then with a proper batch answer. */
  async function proxy(answers: Array<(res: ServerResponse) => void>): Promise<{ url: string; uploads: number[]; close: () => Promise<void> }> {
    const uploads: number[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const n = (JSON.parse(body) as { items: unknown[] }).items.length;
        uploads.push(n);
        const next = answers.shift();
        if (next) return next(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: Array.from({ length: n }, (_, i) => ({ status: 'accepted', ingest_id: `id-${uploads.length}-${i}` })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, uploads,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  it('a 503 with Retry-After: 0 and a 200 that is not a whole answer are retried, never taken as acknowledged', async () => {
    const p = await proxy([
      (res) => res.writeHead(503, { 'retry-after': '0' }).end(),
      (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway timeout page</html>'),
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"status":"accepted"}]}'), // fewer results than items
    ]);
    try {
      const spool = join(dir, 'proxy.spool.jsonl');
      const stdin = new PassThrough();
      stdin.end(`${hexOf(900)}\n${hexOf(901)}\n`);
      const { io: cli, err } = io(stdin);
      const args = ['--url', p.url, '--gateway-id', 'gw-proxy', '--spool', spool, '--status-interval', '0', '--retry-base-ms', '20', '--retry-max-ms', '50'];
      expect(await runForward(args, cli, { OMS_BRIDGE_TOKEN: GW_KEY })).toBe(0);
      expect(p.uploads).toEqual([2, 2, 2, 2]);
      expect(readFileSync(spool, 'utf8')).toBe('');
      expect(err.join('')).toMatch(/acked 2 .*failures 3/);
    } finally {
      await p.close();
    }
  });

  it('stops reading a live pipe and exits 1 on 403 (a revoked key must not leave a forwarder that spools forever)', async () => {
    const p = await proxy([(res) => res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"code":"forbidden"}}')]);
    try {
      const spool = join(dir, 'revoked.spool.jsonl');
      const stdin = new PassThrough(); // never ended, like rtl_433 running on
      stdin.write(`${hexOf(950)}\n`);
      const { io: cli, err } = io(stdin);
      const code = await runForward(['--url', p.url, '--gateway-id', 'gw-revoked', '--spool', spool, '--status-interval', '0', '--linger-ms', '0'], cli, { OMS_BRIDGE_TOKEN: GW_KEY });
      expect(code).toBe(1);
      expect(err.join('')).toMatch(/HTTP 403/);
      expect(stdin.destroyed).toBe(true);
      expect(readFileSync(spool, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      await p.close();
    }
  });
});
