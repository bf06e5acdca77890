/**
 * Lobaro "Domain Model Mapping" (lobaro-api.md §3): a mapping picks data records by index and
 * names them, giving a uniform Metering Domain Model per device type. Pure; `now` is passed in.
 */
import type { WmbusResult } from './types.js';

/** All present fields must match. */
export interface MappingFilter {
  /** FormatSignature as 4 hex digits ("EF92"), case-insensitive. */
  formatSignature?: string;
  /** Three-letter manufacturer code (sic: Lobaro's spelling). */
  manafacture?: string;
  /** Device type as 2 hex digits ("04"). */
  type?: string;
  /** Version byte, decimal. */
  version?: number | string;
}

/** `{ comment, filter, heat|water|gas|electricity|hca|…: { <name>Idx: number } }` */
export interface Mapping {
  comment?: string;
  filter?: MappingFilter;
  [medium: string]: unknown;
}

export interface MappingConfig {
  mappings: Mapping[];
}

export interface DomainValue {
  /** RFC 3339; the mapped date record's value, else the processing time. */
  date: string;
  /** ValueScaled of the record. */
  value: number;
  /** VifUnit of the record. */
  unit: string;
}

export interface DomainModelBase {
  /** manufacturer + meterId + version + timestamp (second precision). */
  id: string;
  /** "HeatMeterReading", "WaterMeterReading", "<Medium>MeterReading". */
  type: string;
  meterId: string;
  linkLayerId: string;
  meterType: number;
  manufacturer: string;
  manufacturerLinkLayer: string;
  version: number;
  versionLinkLayer: number;
}

export type MeteringDomainModel = DomainModelBase & { [name: string]: DomainValue | string | number };


/** Application-layer identity: the long TPL header when there is one, else the link layer. */
function appIdentity(r: WmbusResult): { id: string; m: string; version: number; type: number } {
  if (r.Header.IdString !== '') {
    return { id: r.Header.IdString, m: r.Header.MFieldCodeString, version: r.Header.Version, type: parseInt(r.Header.DeviceType, 16) || 0 };
  }
  return { id: r.IdString, m: r.MFieldCodeString, version: r.Version, type: parseInt(r.Device, 16) || 0 };
}

function matches(f: MappingFilter | undefined, r: WmbusResult, app: { m: string; version: number; type: number }): boolean {
  if (f === undefined || f === null) return true;
  if (f.formatSignature !== undefined && f.formatSignature.toUpperCase().padStart(4, '0') !== r.FormatSignature.toString(16).toUpperCase().padStart(4, '0')) return false;
  if (f.manafacture !== undefined && f.manafacture.toUpperCase() !== app.m.toUpperCase()) return false;
  if (f.type !== undefined && parseInt(f.type, 16) !== app.type) return false;
  if (f.version !== undefined && Number(f.version) !== app.version) return false;
  return true;
}

function secondPrecision(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function applyMappings(result: WmbusResult, config: MappingConfig, now: Date): MeteringDomainModel | null {
  const app = appIdentity(result);
  for (const mapping of config?.mappings ?? []) {
    if (mapping === null || typeof mapping !== 'object' || !matches(mapping.filter, result, app)) continue;
    const medium = Object.keys(mapping).find((k) => k !== 'comment' && k !== 'filter' && typeof mapping[k] === 'object' && mapping[k] !== null);
    if (medium === undefined) continue;
    const fields = mapping[medium] as Record<string, unknown>;
    const nowIso = now.toISOString();
    const model: MeteringDomainModel = {
      id: `${app.m}${app.id}${app.version}${secondPrecision(now)}`,
      type: `${medium.charAt(0).toUpperCase()}${medium.slice(1)}MeterReading`,
      meterId: app.id,
      linkLayerId: result.IdString,
      meterType: app.type,
      manufacturer: app.m,
      manufacturerLinkLayer: result.MFieldCodeString,
      version: app.version,
      versionLinkLayer: result.Version,
    };
    const records = result.Body.DataRecords;
    const dateFor = new Map<string, string>();
    for (const [k, idx] of Object.entries(fields)) {
      if (!k.endsWith('DateIdx') || typeof idx !== 'number') continue;
      const rec = records[idx];
      if (rec !== undefined && rec.ValueString !== '') dateFor.set(`${k.slice(0, -'DateIdx'.length)}Value`, rec.ValueString);
    }
    for (const [k, idx] of Object.entries(fields)) {
      if (!k.endsWith('Idx') || k.endsWith('DateIdx') || typeof idx !== 'number') continue;
      const rec = records[idx];
      if (rec === undefined) continue;
      const name = k.slice(0, -'Idx'.length);
      model[name] = { date: dateFor.get(name) ?? nowIso, value: rec.ValueScaled, unit: rec.VifUnit };
    }
    return model;
  }
  return null;
}
