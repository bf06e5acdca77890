import { entitiesOf, flatState } from '../homeassistant/entities.js';
import type { Job } from '../store/store.js';

export const SCHEMA = 'oms.bridge.v1';

export interface MeterInfo {
  id: string | null;
  manufacturer: string | null;
  device_type: number | null;
  version: number | null;
}

export interface NormalizedValue {
  name: string;
  value: number | string | null;
  unit: string;
  date?: string;
}

export interface JobError {
  code: string;
  message: string;
  attempts: number;
  http_status?: number;
  /** Finer cause within `code`, e.g. `unexpected_plaintext` under `decrypt_failed`. */
  reason?: string;
}

interface Envelope {
  schema: typeof SCHEMA;
  ingest_id: string;
  gateway_id: string;
  rx_time: string;
  rssi_dbm: number | null;
  mode: string | null;
  raw_hex: string;
  replay?: true;
}

function envelope(job: Pick<Job, 'ingestId' | 'gatewayId' | 'rxTime' | 'rssiDbm' | 'mode' | 'rawHex' | 'replay'>): Envelope {
  const e: Envelope = {
    schema: SCHEMA,
    ingest_id: job.ingestId,
    gateway_id: job.gatewayId,
    rx_time: job.rxTime,
    rssi_dbm: job.rssiDbm,
    mode: job.mode,
    raw_hex: job.rawHex,
  };
  if (job.replay) e.replay = true;
  return e;
}

/** Payload on …/raw/{ingest_id}: published at ingest, before any parsing. */
export function rawPayload(job: Pick<Job, 'ingestId' | 'gatewayId' | 'rxTime' | 'rssiDbm' | 'mode' | 'rawHex' | 'meterId' | 'manufacturer' | 'replay'>): Record<string, unknown> {
  return { ...envelope(job), meter_hint: { id: job.meterId, manufacturer: job.manufacturer } };
}

/** Payload on …/meter/{meter_id}/reading (schemas/reading.schema.json). */
export function readingPayload(
  job: Job,
  parsed: { parser: string; meter: MeterInfo; values: NormalizedValue[]; extra: Record<string, unknown> },
  authenticated: boolean,
): Record<string, unknown> {
  const state = flatState(entitiesOf(parsed.values, parsed.meter.device_type));
  return { ...envelope(job), meter: parsed.meter, parser: parsed.parser, authenticated, ...parsed.extra, values: parsed.values, state };
}

/** Payload on …/errors/{ingest_id} (schemas/error.schema.json). */
export function errorPayload(job: Job, meter: MeterInfo, error: JobError): Record<string, unknown> {
  return { ...envelope(job), meter, error };
}
