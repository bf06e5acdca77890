import type {
  AuditRecord, Job, KeyProblemKind, KeyProblemMeter, MappingVersion, MeterKeyRecord, OutboxRow, Reception, TelegramRecord,
} from './store.js';
import { KEY_PROBLEMS } from './store.js';

/**
 * Row → record mapping shared by the SQLite and PostgreSQL stores. Both return
 * snake_case columns with epoch-ms numbers (PostgreSQL BIGINT is parsed to
 * number by the pool); booleans are 0/1 in SQLite and true/false in PostgreSQL.
 */
export type Row = Record<string, unknown>;

/** Columns of a {@link TelegramRecord}; `t` = telegrams, `r` = parse_results. */
export const TELEGRAM_RECORD_COLUMNS = `t.ingest_id, t.gateway_id, t.meter_id, t.manufacturer, t.rx_time, t.rssi_dbm, t.status,
  t.attempts, t.error_code, t.last_error, t.next_attempt_at, t.created_at, t.finished_at, r.parsed_json, r.published_at, t.merged_into, t.raw_hex`;

/** Columns of a {@link Job}, plus created_at for ordering a claimed batch. */
export const JOB_COLUMNS = 'ingest_id, gateway_id, rx_time, rssi_dbm, mode, raw_hex, meter_id, manufacturer, attempts, key_hex, replay, created_at, locked_by, lease_seq, claims, error_code, last_error';

export const KEY_PROBLEM_COLUMNS = 'k.meter_id, k.manufacturer, k.problem, k.detail, k.first_seen, k.last_seen, k.count';

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const bool = (v: unknown): boolean => v === true || v === 1;

export function toJob(r: Row): Job {
  return {
    ingestId: str(r.ingest_id),
    gatewayId: str(r.gateway_id),
    rxTime: str(r.rx_time),
    rssiDbm: numOrNull(r.rssi_dbm),
    mode: strOrNull(r.mode),
    rawHex: str(r.raw_hex),
    meterId: strOrNull(r.meter_id),
    manufacturer: strOrNull(r.manufacturer),
    attempts: num(r.attempts),
    keyHex: strOrNull(r.key_hex),
    replay: bool(r.replay),
    lockedBy: str(r.locked_by),
    leaseSeq: num(r.lease_seq),
    claims: num(r.claims),
    errorCode: strOrNull(r.error_code),
    lastError: strOrNull(r.last_error),
    createdAt: num(r.created_at),
  };
}

export function toOutboxRow(r: Row): OutboxRow {
  return {
    id: num(r.id),
    ingestId: strOrNull(r.ingest_id),
    kind: r.kind as OutboxRow['kind'],
    topic: str(r.topic),
    payload: str(r.payload),
    qos: num(r.qos) as 0 | 1 | 2,
    retain: bool(r.retain),
  };
}

export function toTelegramRecord(r: Row): TelegramRecord {
  return {
    ingestId: str(r.ingest_id),
    gatewayId: str(r.gateway_id),
    meterId: strOrNull(r.meter_id),
    manufacturer: strOrNull(r.manufacturer),
    rxTime: str(r.rx_time),
    rssiDbm: numOrNull(r.rssi_dbm),
    status: r.status as TelegramRecord['status'],
    attempts: num(r.attempts),
    errorCode: strOrNull(r.error_code),
    lastError: strOrNull(r.last_error),
    nextAttemptAt: num(r.next_attempt_at),
    createdAt: num(r.created_at),
    finishedAt: numOrNull(r.finished_at),
    parsed: typeof r.parsed_json === 'string' && r.parsed_json !== '' ? JSON.parse(r.parsed_json) : null,
    publishedAt: numOrNull(r.published_at),
    mergedInto: strOrNull(r.merged_into),
    rawHex: str(r.raw_hex),
  };
}

export function toReception(r: Row): Reception {
  return { ingestId: str(r.ingest_id), gatewayId: str(r.gateway_id), rssiDbm: numOrNull(r.rssi_dbm), rxTime: str(r.rx_time) };
}

export function toMeterKey(r: Row): MeterKeyRecord {
  return { meterId: str(r.meter_id), manufacturer: strOrNull(r.manufacturer), keyHex: str(r.key_hex), updatedAt: num(r.updated_at) };
}

/** `gateways` is a JSON array text (SQLite json_group_array) or a text[] (PostgreSQL ARRAY()). */
export function toKeyProblem(r: Row): KeyProblemMeter {
  const raw = r.gateways;
  const gateways = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? (JSON.parse(raw) as string[]) : [];
  return {
    meterId: str(r.meter_id),
    manufacturer: strOrNull(r.manufacturer),
    problem: str(r.problem) as KeyProblemKind,
    detail: strOrNull(r.detail),
    firstSeen: num(r.first_seen),
    lastSeen: num(r.last_seen),
    count: num(r.count),
    gateways: [...gateways].sort(),
  };
}

export function toMapping(r: Row): MappingVersion {
  return { version: num(r.version), json: str(r.json), createdAt: num(r.created_at), active: bool(r.active) };
}

export function toAudit(r: Row): AuditRecord {
  return {
    id: num(r.id),
    at: num(r.at),
    action: str(r.action),
    target: strOrNull(r.target),
    actor: str(r.actor),
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  };
}

/** `problem, n` rows of a GROUP BY → a count for every kind. */
export function keyProblemCounts(rows: Row[]): Record<KeyProblemKind, number> {
  const counts = Object.fromEntries(KEY_PROBLEMS.map((k) => [k, 0])) as Record<KeyProblemKind, number>;
  for (const r of rows) {
    const kind = str(r.problem) as KeyProblemKind;
    if (kind in counts) counts[kind] = num(r.n);
  }
  return counts;
}
