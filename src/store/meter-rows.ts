import type { MeterGateway, MeterLiveness, MeterStatus } from '../liveness/meter-state.js';
import type { KeyProblemKind, MeterMatch, MeterReading } from './store.js';
import type { Row } from './store-rows.js';

export const METER_COLUMNS = 'meter_id, manufacturer, status, first_seen, last_seen, interval_ms, gaps, gateways, last_error_code, last_error, stale_at';

const num = (v: unknown): number => Number(v);

export function toMeter(r: Row): MeterLiveness {
  return {
    meterId: r.meter_id as string,
    manufacturer: (r.manufacturer as string | null) ?? null,
    status: r.status as MeterStatus,
    firstSeen: num(r.first_seen),
    lastSeen: num(r.last_seen),
    intervalMs: r.interval_ms === null || r.interval_ms === undefined ? null : num(r.interval_ms),
    gaps: JSON.parse(r.gaps as string) as number[],
    gateways: JSON.parse(r.gateways as string) as MeterGateway[],
    lastErrorCode: (r.last_error_code as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    staleAt: num(r.stale_at),
  };
}

/** Positional values for an upsert of every column in METER_COLUMNS order. */
export function meterValues(m: MeterLiveness): unknown[] {
  return [
    m.meterId, m.manufacturer, m.status, m.firstSeen, m.lastSeen, m.intervalMs, JSON.stringify(m.gaps), JSON.stringify(m.gateways),
    m.lastErrorCode, m.lastError, m.staleAt,
  ];
}

export const EMPTY_COUNTS: Readonly<Record<MeterStatus, number>> = Object.freeze({ ok: 0, stale: 0, key_problem: 0 });

/** Columns of a {@link MeterReading}; `t` = telegrams, `r` = parse_results. */
export const READING_COLUMNS = 't.meter_id, t.ingest_id, t.created_at, r.parsed_json';

export function toReading(r: Row): MeterReading {
  return { meterId: r.meter_id as string, ingestId: r.ingest_id as string, at: num(r.created_at), parsed: JSON.parse(r.parsed_json as string) as unknown };
}

/** Row of a meter id left-joined with meters, key_missing and meter_keys (`id`, `status`, `problem`, `has_key`). */
export function toMatch(r: Row): MeterMatch {
  return { meterId: r.id as string, status: (r.status as MeterStatus | null) ?? null, keyProblem: (r.problem as KeyProblemKind | null) ?? null, hasKey: Boolean(r.has_key) };
}
