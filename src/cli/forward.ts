/** `oms-bridge forward`: stdin (rtl_wmbus, rtl_433 -F json, hex, JSON Lines) → POST /v1/telegrams/batch, with a spool. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { backoffDelayMs, parseRetryAfter } from '../lib/backoff.js';
import { FORWARD_FORMATS, parseLine, type ForwardFormat } from './forward-formats.js';
import { Spool, type SpoolItem } from './forward-spool.js';
import type { CliIo } from './main.js';

export const FORWARD_USAGE = 'usage: oms-bridge forward --url URL --gateway-id ID [--token-file F] [--format auto|hex|rtl_wmbus|rtl_433|jsonl]\n'
  + '         [--spool FILE] [--batch-size N] [--linger-ms MS] [--status-interval S]   (token also from OMS_BRIDGE_TOKEN)';

export interface ForwardOptions {
  url: string;
  gatewayId: string;
  token: string;
  format: ForwardFormat;
  spool: string;
  batchSize: number;
  /** How long a partial batch waits for more lines before it is sent. */
  lingerMs: number;
  statusIntervalS: number;
  /** Backoff bounds between failed sends. */
  retryBaseMs: number;
  retryMaxMs: number;
}

function parseArgs(args: string[], env: NodeJS.ProcessEnv): ForwardOptions | string {
  const v: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('--')) return `unexpected argument ${a}`;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return `${a} needs a value`;
    v[name] = value;
  }
  const known = ['url', 'gateway-id', 'token-file', 'format', 'spool', 'batch-size', 'linger-ms', 'status-interval', 'retry-base-ms', 'retry-max-ms'];
  const unknown = Object.keys(v).find((k) => !known.includes(k));
  if (unknown) return `unknown option --${unknown}`;
  if (!v.url || !/^https?:\/\//.test(v.url)) return '--url must be the bridge base URL, e.g. http://bridge:8080';
  if (!v['gateway-id'] || !/^[A-Za-z0-9._-]{1,64}$/.test(v['gateway-id'])) return '--gateway-id must match [A-Za-z0-9._-]{1,64}';
  const format = (v.format ?? 'auto') as ForwardFormat;
  if (!FORWARD_FORMATS.includes(format)) return `--format must be one of ${FORWARD_FORMATS.join('|')}`;
  let token = env.OMS_BRIDGE_TOKEN?.trim();
  if (v['token-file']) {
    try {
      token = readFileSync(v['token-file'], 'utf8').trim();
    } catch (err) {
      return `--token-file: cannot read ${v['token-file']} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  }
  if (!token) return 'a gateway key is needed: --token-file F or OMS_BRIDGE_TOKEN';
  const int = (name: string, fallback: number, min: number, max: number): number | string => {
    const n = v[name] === undefined ? fallback : Number(v[name]);
    return Number.isInteger(n) && n >= min && n <= max ? n : `--${name} must be an integer in [${min}, ${max}]`;
  };
  const batchSize = int('batch-size', 500, 1, 1_000);
  const lingerMs = int('linger-ms', 200, 0, 60_000);
  const statusIntervalS = int('status-interval', 10, 0, 86_400);
  const retryBaseMs = int('retry-base-ms', 500, 1, 600_000);
  const retryMaxMs = int('retry-max-ms', 30_000, 1, 3_600_000);
  for (const x of [batchSize, lingerMs, statusIntervalS, retryBaseMs, retryMaxMs]) if (typeof x === 'string') return x;
  return {
    url: v.url.replace(/\/+$/, ''), gatewayId: v['gateway-id'], token, format,
    spool: v.spool ?? `./oms-forward-${v['gateway-id']}.spool.jsonl`,
    batchSize: batchSize as number, lingerMs: lingerMs as number, statusIntervalS: statusIntervalS as number,
    retryBaseMs: retryBaseMs as number, retryMaxMs: retryMaxMs as number,
  };
}

export async function runForward(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const opts = parseArgs(args, env);
  if (typeof opts === 'string') {
    io.stderr.write(`forward: ${opts}\n${FORWARD_USAGE}\n`);
    return 2;
  }
  return new Forwarder(opts, io).run();
}

/** What one upload came to: every item answered, send again in smaller batches, or wait and retry (null: backoff). */
type SendOutcome = { kind: 'answered' } | { kind: 'smaller' } | { kind: 'retry'; waitMs: number | null };

/** Thrown for answers a resend cannot fix (401, 403, 400): the forwarder stops with a non-zero code. */
class PermanentError extends Error {}

export class Forwarder {
  private readonly spool: Spool;
  /** Unique per run; with a counter it makes client_ids that never repeat within the bridge's 24 h. */
  private readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  private seq = 0;
  private inputEnded = false;
  private input: Interface | undefined;
  private wake: (() => void) | undefined;
  private readonly stats = { read: 0, skipped: 0, sent: 0, acked: 0, invalid: 0, duplicate: 0, failures: 0 };
  private readonly started = Date.now();
  /** Lowered after a 413 (the bridge's BATCH_MAX_BYTES is smaller than our batches). */
  private batchSize: number;

  constructor(private readonly opts: ForwardOptions, private readonly io: CliIo) {
    this.spool = new Spool(opts.spool);
    this.batchSize = opts.batchSize;
  }

  async run(): Promise<number> {
    const resumed = this.spool.load();
    if (resumed > 0) this.io.stderr.write(`forward: ${resumed} telegram(s) from ${this.opts.spool} not yet acknowledged; sending them first\n`);
    const status = this.opts.statusIntervalS > 0 ? setInterval(() => this.printStatus(), this.opts.statusIntervalS * 1000) : undefined;
    status?.unref();
    // A failed read (spool not writable, stdin error) ends the input; it is reported once sending stops.
    let readError: unknown;
    const reading = this.readInput().catch((err: unknown) => {
      readError = err;
      this.inputEnded = true;
      this.wake?.();
    });
    try {
      await this.sendLoop();
      await reading;
      this.printStatus();
      if (readError === undefined) return 0;
      this.io.stderr.write(`forward: reading input failed: ${(readError as Error)?.message ?? String(readError)} (${this.spool.pending.length} telegram(s) stay in ${this.opts.spool})\n`);
      return 1;
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      this.io.stderr.write(`forward: ${err.message}; stopping (${this.spool.pending.length} telegram(s) stay in ${this.opts.spool})\n`);
      return 1;
    } finally {
      if (status) clearInterval(status);
      this.stopInput();
    }
  }

  /** Stops reading: a live pipe (rtl_wmbus, rtl_433) on stdin would otherwise keep the process running after a permanent error. */
  private stopInput(): void {
    this.inputEnded = true;
    this.input?.close();
    const stdin = this.io.stdin as NodeJS.ReadableStream & { destroy?: () => void; readableEnded?: boolean };
    if (!stdin.readableEnded) stdin.destroy?.();
  }

  private async readInput(): Promise<void> {
    const rl = createInterface({ input: this.io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    this.input = rl;
    let shown = 0;
    for await (const line of rl) {
      if (this.inputEnded) break;
      const r = parseLine(line, this.opts.format);
      if (!r.ok) {
        if (!r.skip) {
          this.stats.skipped++;
          if (shown++ < 10) this.io.stderr.write(`forward: line skipped: ${r.reason}: ${line.slice(0, 120)}\n`);
        }
        continue;
      }
      this.stats.read++;
      const item: SpoolItem = {
        client_id: `${this.runId}-${(this.seq++).toString(36)}`, gateway_id: this.opts.gatewayId,
        rx_time: new Date().toISOString(), ...r.telegram,
      };
      this.spool.add(item);
      this.wake?.();
    }
    this.inputEnded = true;
    this.wake?.();
  }

  private async sendLoop(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const pending = this.spool.pending;
      if (pending.length === 0) {
        if (this.inputEnded) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
        continue;
      }
      // A partial batch waits a little for more lines, unless input has ended.
      if (pending.length < this.batchSize && !this.inputEnded && this.opts.lingerMs > 0) await sleep(this.opts.lingerMs);
      const batch = pending.slice(0, this.batchSize);
      const outcome = await this.send(batch);
      if (outcome.kind === 'answered') {
        attempt = 0;
        this.spool.ack(batch.length);
        continue;
      }
      if (outcome.kind === 'smaller') continue;
      attempt++;
      this.stats.failures++;
      await sleep(outcome.waitMs ?? backoffDelayMs(attempt, { policy: { baseMs: this.opts.retryBaseMs, capMs: this.opts.retryMaxMs } }));
    }
  }

  /** Throws PermanentError for answers a resend cannot fix. */
  private async send(batch: SpoolItem[]): Promise<SendOutcome> {
    this.stats.sent += batch.length;
    let res: Response;
    try {
      res = await fetch(`${this.opts.url}/v1/telegrams/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: batch }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      return { kind: 'retry', waitMs: null };
    }
    const text = await res.text().catch(() => null);
    if (res.status === 200) {
      // Only a whole answer acknowledges the batch: a cut-off body or a proxy's page is sent again (client_ids make that safe).
      const results = text === null ? undefined : batchResults(text, batch.length);
      if (results === undefined) return { kind: 'retry', waitMs: null };
      results.forEach((r, i) => {
        if (r.status === 'accepted') this.stats.acked++;
        else if (r.status === 'duplicate') { this.stats.acked++; this.stats.duplicate++; }
        else {
          this.stats.invalid++;
          this.io.stderr.write(`forward: bridge refused ${batch[i]?.raw_hex.slice(0, 40) ?? '?'}…: ${r.error?.code}: ${r.error?.message}\n`);
        }
      });
      return { kind: 'answered' };
    }
    if (res.status === 401 || res.status === 403) throw new PermanentError(`the bridge refused the gateway key (HTTP ${res.status})`);
    if (res.status === 413 && batch.length > 1) {
      this.batchSize = Math.max(1, Math.floor(batch.length / 2));
      this.io.stderr.write(`forward: the bridge found ${batch.length} telegrams too large (413); sending ${this.batchSize} per batch\n`);
      return { kind: 'smaller' };
    }
    if (res.status === 400 || res.status === 413 || res.status === 415) throw new PermanentError(`the bridge refused the upload (HTTP ${res.status}: ${(text ?? '').slice(0, 200)})`);
    const waitMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined);
    // Retry-After: 0 (or a date already past) from a proxy is a retry too, not an answer.
    return { kind: 'retry', waitMs: waitMs === undefined ? null : Math.max(waitMs, this.opts.retryBaseMs) };
  }

  private printStatus(): void {
    const s = this.stats;
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    this.io.stderr.write(`forward: read ${s.read} sent ${s.sent} acked ${s.acked} (duplicate ${s.duplicate}) invalid ${s.invalid} spooled ${this.spool.pending.length} skipped ${s.skipped} failures ${s.failures} rate ${(s.acked / secs).toFixed(1)}/s\n`);
  }
}

type ItemResult = { status: string; error?: { code: string; message: string } };

/** The per-item results of a batch answer, or undefined when the body is not a complete answer for `n` items. */
function batchResults(text: string, n: number): ItemResult[] | undefined {
  try {
    const results = (JSON.parse(text) as { results?: unknown } | null)?.results;
    if (!Array.isArray(results) || results.length !== n) return undefined;
    return results.every((r) => r !== null && typeof r === 'object' && typeof (r as ItemResult).status === 'string') ? (results as ItemResult[]) : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
