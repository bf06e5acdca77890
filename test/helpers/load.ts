import { Agent, request } from 'undici';

export interface LoadResult {
  accepted: string[];
  statuses: Map<number | string, number>;
}

export const PLAIN = '1844ae4c4455223368077a55000000041389e20100023b0000';

/** A unique unencrypted telegram per index (dedup would merge repeats). */
export function uniqueTelegram(i: number, salt = 0): string {
  return `${PLAIN}${(salt * 1_000_000 + i).toString(16).padStart(8, '0')}`;
}

/**
 * Posts telegrams with `concurrency` keep-alive workers until `stop()` returns
 * true or `count` requests were sent. Connection errors are counted, never thrown:
 * the process under test may die mid-load on purpose.
 */
export async function runLoad(opts: {
  baseUrl: string;
  key: string;
  gatewayId: string;
  concurrency: number;
  count?: number;
  stop?: () => boolean;
  salt?: number;
  pauseMs?: number;
  /** Called with the number of 202s so far, after each one. */
  onAccepted?: (n: number) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ connections: opts.concurrency, keepAliveTimeout: 10_000 });
  const result: LoadResult = { accepted: [], statuses: new Map() };
  let next = 0;
  const bump = (k: number | string) => result.statuses.set(k, (result.statuses.get(k) ?? 0) + 1);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (opts.stop?.() || (opts.count !== undefined && next >= opts.count)) return;
      const i = next++;
      try {
        const res = await request(`${opts.baseUrl}/v1/telegrams`, {
          method: 'POST', dispatcher: agent,
          headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ gateway_id: opts.gatewayId, raw_hex: uniqueTelegram(i, opts.salt), rssi_dbm: -70 }),
          headersTimeout: 10_000, bodyTimeout: 10_000,
        });
        const body = (await res.body.json()) as { ingest_id?: string; duplicate?: boolean };
        bump(res.statusCode);
        if (res.statusCode === 202 && body.ingest_id) {
          result.accepted.push(body.ingest_id);
          opts.onAccepted?.(result.accepted.length);
        }
      } catch {
        bump('error');
        await new Promise((r) => setTimeout(r, 20));
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  await agent.close().catch(() => undefined);
  return result;
}

/** How often each ingest_id was published (reading or error). */
export function deliveries(messages: Array<{ topic: string; json: Record<string, unknown> }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (m.topic.includes('/raw/')) continue;
    const id = m.json.ingest_id;
    if (typeof id === 'string') counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Resolves once `count()` reaches `n` or `timeoutMs` passed: load tests act on progress, not on wall time (CI machines differ). */
export async function untilCount(count: () => number, n: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (count() < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
