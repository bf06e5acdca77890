import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Delay before answering, ms. */
  delayMs?: number;
  /** Never answer (client must time out). */
  hang?: boolean;
}

export type Behaviour = (req: RecordedRequest, n: number) => FakeReply;

/** The default answer: a Metering Domain Model for whatever telegram was sent. */
export const okDomainModel: Behaviour = (req) => ({
  status: 200,
  body: {
    id: `ELS12345678512026-01-08T12:45:11+01:00`,
    type: 'GasMeterReading',
    meterId: '12345678',
    linkLayerId: '12345678',
    meterType: 3,
    manufacturer: 'ELS',
    manufacturerLinkLayer: 'ELS',
    version: 51,
    versionLinkLayer: 51,
    currentValue: { date: '2026-01-08T12:45:11.000000+01:00', value: 28504.27, unit: 'm^3' },
    raw: req.query.get('raw'),
  },
});

/**
 * A local stand-in for the Lobaro cloud (the only faked part): speaks the
 * /api/meterData contract of shared/lobaro-api.md, with injectable latency,
 * status codes, Retry-After and hangs.
 */
export class FakeLobaro {
  readonly requests: RecordedRequest[] = [];
  behaviour: Behaviour = okDomainModel;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const rec: RecordedRequest = {
          method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(rec);
        const reply = this.behaviour(rec, this.requests.length);
        if (reply.hang) {
          this.hanging.add(res);
          return;
        }
        const send = (): void => {
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * A parser limited to `ratePerS` requests/s (token bucket holding `burst`
 * tokens, full at the start): over the limit it answers `status` (429 by
 * default, or 503) with `Retry-After: 1`; within it, `inner`.
 */
export function tokenBucket(ratePerS: number, opts: { burst?: number; status?: 429 | 503; inner?: Behaviour } = {}): Behaviour {
  const burst = opts.burst ?? Math.max(1, ratePerS / 10);
  const inner = opts.inner ?? okDomainModel;
  let tokens = burst;
  let last = performance.now();
  return (req, n) => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1_000) * ratePerS);
    last = now;
    if (tokens < 1) return { status: opts.status ?? 429, headers: { 'retry-after': '1' }, body: { error: 'rate limit exceeded' } };
    tokens -= 1;
    return inner(req, n);
  };
}
