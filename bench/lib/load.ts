/**
 * A small HTTP load driver on undici keep-alive pools, with the two shapes
 * the benchmarks need and autocannon does not give precisely:
 * - open loop at a fixed offered rate: request i is due at t0 + i/rate and is
 *   sent then whether or not earlier ones were answered (no coordinated
 *   omission: a slow server does not slow the offered load);
 * - closed loop at saturation: `concurrency` callers, each sends its next
 *   request when the previous one is answered.
 * Latency is measured from the moment the request is handed to the pool
 * (`sent`) to the end of the response body; for the open loop the latency
 * from the due time (`sched`) is kept too, which adds the driver's own lag.
 */
import { Pool } from 'undici';
import { summarize, type LatencySummary } from './stats.js';

export interface PostResult {
  status: number;
  /** Response body, only when asked for. */
  text: string;
}

/** One or more bridge (or baseline) base URLs; requests go round-robin over them. */
export class LoadTarget {
  private readonly pools: Pool[];
  private next = 0;

  constructor(
    readonly urls: string[],
    private readonly apiKey: string,
    connectionsPerUrl: number,
    private readonly path = '/v1/telegrams',
  ) {
    this.pools = urls.map((u) => new Pool(u, { connections: connectionsPerUrl, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 }));
  }

  async post(body: string, wantBody: boolean): Promise<PostResult> {
    const pool = this.pools[this.next++ % this.pools.length]!;
    const res = await pool.request({
      method: 'POST',
      path: this.path,
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    if (wantBody) return { status: res.statusCode, text: await res.body.text() };
    await res.body.dump();
    return { status: res.statusCode, text: '' };
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close().catch(() => undefined)));
  }
}

export interface LoadOptions {
  durationS: number;
  makeBody: () => string;
  /** Keep ingest_id and send time of every accepted request (for end-to-end matching). */
  captureIds?: boolean;
  /** Longest wait for answers still outstanding after the sending window. */
  tailTimeoutMs?: number;
}

export interface LoadResult {
  mode: 'fixed-rate' | 'saturation';
  offeredRate: number | null;
  concurrency: number | null;
  durationS: number;
  sent: number;
  /** 202 answers. */
  accepted: number;
  statuses: Record<string, number>;
  /** Connection errors and answers that never came (status "error"/"timeout" in `statuses`). */
  failed: number;
  /** First send to last answer, s. */
  elapsedS: number;
  /** 202 answers per second over `elapsedS`. */
  acceptedPerS: number;
  /** Answer latency from hand-over to the pool, ms, 202s only. */
  latency: LatencySummary;
  /** The same over every HTTP answer (202, 503, …): what a gateway waits for before it knows. */
  latencyAnswered: LatencySummary;
  /** Open loop only: latency from the due time, ms (includes driver lag). */
  latencyFromDue: LatencySummary | null;
  /** Open loop only: how late requests were handed over, p99 ms (the driver keeping up?). */
  driverLagP99: number | null;
  /** With captureIds: accepted ingest_id → send time (performance.now() ms). */
  ids: Map<string, number> | null;
  /** performance.now() at the start of sending. */
  t0: number;
}

interface Recorder {
  lat: number[];
  latAnswered: number[];
  latDue: number[];
  lag: number[];
  statuses: Record<string, number>;
  accepted: number;
  failed: number;
  lastDone: number;
  ids: Map<string, number> | null;
}

function recorder(captureIds: boolean): Recorder {
  return { lat: [], latAnswered: [], latDue: [], lag: [], statuses: {}, accepted: 0, failed: 0, lastDone: 0, ids: captureIds ? new Map() : null };
}

async function one(target: LoadTarget, rec: Recorder, body: string, due: number | null): Promise<void> {
  const sent = performance.now();
  if (due !== null) rec.lag.push(sent - due);
  let status: string;
  try {
    const res = await target.post(body, rec.ids !== null);
    const done = performance.now();
    rec.lastDone = done;
    rec.latAnswered.push(done - sent);
    status = String(res.status);
    if (res.status === 202) {
      rec.accepted++;
      rec.lat.push(done - sent);
      if (due !== null) rec.latDue.push(done - due);
      if (rec.ids) {
        const id = /"ingest_id":"([^"]+)"/.exec(res.text)?.[1];
        if (id) rec.ids.set(id, sent);
      }
    }
  } catch {
    rec.lastDone = performance.now();
    rec.failed++;
    status = 'error';
  }
  rec.statuses[status] = (rec.statuses[status] ?? 0) + 1;
}

async function settle(pending: Set<Promise<void>>, rec: Recorder, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    Promise.all([...pending]).then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    rec.failed += pending.size;
    rec.statuses.timeout = (rec.statuses.timeout ?? 0) + pending.size;
  }
}

function result(mode: LoadResult['mode'], rec: Recorder, t0: number, sent: number, o: LoadOptions, offeredRate: number | null, concurrency: number | null): LoadResult {
  const elapsedS = Math.max(1e-3, (rec.lastDone - t0) / 1000);
  return {
    mode, offeredRate, concurrency, durationS: o.durationS, sent, accepted: rec.accepted, statuses: rec.statuses, failed: rec.failed,
    elapsedS, acceptedPerS: rec.accepted / elapsedS,
    latency: summarize(rec.lat),
    latencyAnswered: summarize(rec.latAnswered),
    latencyFromDue: mode === 'fixed-rate' ? summarize(rec.latDue) : null,
    driverLagP99: mode === 'fixed-rate' ? summarize(rec.lag).p99 : null,
    ids: rec.ids, t0,
  };
}

/** Open loop: `rate` requests/s for `durationS`, then waits for the answers still outstanding. */
export async function runFixedRate(target: LoadTarget, rate: number, o: LoadOptions): Promise<LoadResult> {
  const rec = recorder(o.captureIds ?? false);
  const total = Math.max(1, Math.round(rate * o.durationS));
  const interval = 1000 / rate;
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (i < due) {
        const p = one(target, rec, o.makeBody(), t0 + i * interval);
        pending.add(p);
        void p.then(() => pending.delete(p));
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, Math.min(1, t0 + i * interval - performance.now())));
      else resolve();
    };
    tick();
  });
  await settle(pending, rec, o.tailTimeoutMs ?? 30_000);
  return result('fixed-rate', rec, t0, i, o, rate, null);
}

/** Closed loop: `concurrency` callers back to back for `durationS`. */
export async function runSaturation(target: LoadTarget, concurrency: number, o: LoadOptions): Promise<LoadResult> {
  const rec = recorder(o.captureIds ?? false);
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      sent++;
      const p = one(target, rec, o.makeBody(), null);
      pending.add(p);
      await p;
      pending.delete(p);
    }
  };
  const callers = Array.from({ length: concurrency }, caller);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(callers),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, o.durationS * 1000 + (o.tailTimeoutMs ?? 30_000));
    }),
  ]);
  clearTimeout(timer);
  await settle(pending, rec, 1);
  return result('saturation', rec, t0, sent, o, null, concurrency);
}
