// Endpoints of the console-api branch that are not in api.d.ts yet; replaced by typed calls once merged.
import { currentToken } from './auth';
import { ApiError } from './client';
import type { ValueItem } from './format';

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${currentToken() ?? ''}` } });
  const body = await res.json() as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(res.status, body.error?.code ?? `http_${res.status}`, body.error?.message ?? res.statusText);
  return body as T;
}

export interface OverviewBody {
  at: string;
  ingest: { last_minute: number; per_minute: Array<{ at: string; accepted: number; done: number; error: number }> };
  queue: { depth: number };
  outbox: { depth: number; oldest_at: string | null };
  parser: string;
  lobaro_circuit: 'closed' | 'open' | 'half_open' | null;
  mqtt: { connected: boolean };
  pipeline: { running: boolean };
  meters: { ok: number; stale: number; key_problem: number };
  recent_errors: Array<{ code: string; message: string | null; meter_id: string | null; ingest_id: string; at: string }>;
}

export const overview = () => getJson<OverviewBody>('/v1/admin/overview');

export interface Reading {
  at: string;
  values: ValueItem[];
}

export async function readings(meterId: string, since: string): Promise<Reading[]> {
  const body = await getJson<{ items: Reading[] } | Reading[]>(`/v1/admin/meters/${encodeURIComponent(meterId)}/readings?since=${encodeURIComponent(since)}&limit=500`);
  return Array.isArray(body) ? body : body.items;
}
