import { expect } from 'vitest';
import type { NewTelegram, OutboxMessage, TelegramStore } from '../../src/store/store.js';

/** One database for one test: `open()` gives a started store on it (PostgreSQL: any number of them). */
export interface StoreEnv {
  open(): Promise<TelegramStore>;
  dispose(): Promise<void>;
}

export const T0 = 1_700_000_000_000;

let seq = 0;
/** A telegram with a unique ingest id and dedup hash; created at T0 + sequence unless given. */
export function telegram(over: Partial<NewTelegram> = {}): NewTelegram {
  seq++;
  const ingestId = over.ingestId ?? `ing-${String(seq).padStart(6, '0')}`;
  return {
    ingestId, gatewayId: 'gw1', rxTime: '2024-01-01T00:00:00Z', rssiDbm: -80, mode: 'T1', rawHex: '2e44', meterId: '12345678',
    manufacturer: 'KAM', dedupHash: `hash-${ingestId}`, keyHex: null, createdAt: T0 + seq, ...over,
  };
}

export function rawMessage(t: NewTelegram): OutboxMessage {
  return { ingestId: t.ingestId, kind: 'raw', topic: `oms/v1/gw/${t.gatewayId}/raw/${t.ingestId}`, payload: '{"raw":1}', qos: 1, retain: false };
}

export async function add(store: TelegramStore, over: Partial<NewTelegram> = {}): Promise<NewTelegram> {
  const t = telegram(over);
  const r = await store.insertTelegram(t, rawMessage(t), null);
  expect(r).toEqual({ ingestId: t.ingestId, duplicate: false });
  return t;
}

/** Claims everything due at `now` by one worker and finishes it with the given status. */
export async function finishAll(store: TelegramStore, now: number, status: 'done' | 'error' = 'done', errorCode: string | null = null): Promise<string[]> {
  const jobs = await store.claimJobs(1_000, now, 'finisher', 60_000);
  for (const j of jobs) {
    await store.finishJob(j, {
      status, attempts: j.attempts + 1, errorCode, lastError: errorCode ? `failed: ${errorCode}` : null,
      parsedJson: JSON.stringify({ ingestId: j.ingestId, status }), messages: [], now,
    });
  }
  return jobs.map((j) => j.ingestId);
}

/** Walks every page of a paged list and returns all items. */
export async function walk<T>(page: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1_000; i++) {
    const p = await page(cursor);
    pages.push(p.items);
    if (p.nextCursor === null) return pages;
    cursor = p.nextCursor;
  }
  throw new Error('paging does not end');
}
