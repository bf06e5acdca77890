/** A flat, unit-carrying view of a decode result for consumers that do not want Lobaro's shape. */
import type { WmbusRecord, WmbusResult } from './types.js';

export interface DecodedValue {
  /** camelCase quantity: "volume", "energy", "flowTemperature", "hca", "dateTime", "errorFlags", … */
  name: string;
  /** Scaled number in `unit`, or text for dates, identifiers and plain text. */
  value: number | string;
  /** Lobaro VifUnit spelling ("m^3", "Wh", "°C"); "" when none. */
  unit: string;
  /** Date of a date record with the same storage number and subunit (RFC 3339 or YYYY-MM-DD). */
  date?: string;
  storage?: number;
  tariff?: number;
  subunit?: number;
  /** Extension: "max", "min" or "error" for non-instantaneous values. */
  function?: 'max' | 'min' | 'error';
  /** Extension: the record's VIFE description (e.g. backward flow, per phase). */
  description?: string;
}

const SPECIAL_NAMES: Record<string, string> = {
  'H.C.A.': 'hca',
  'Time & Date': 'dateTime',
  'Summertime (begin, end, deviation': 'summertime',
};

const TEXT_QUANTITIES = new Set([
  'Fabrication No', '(Enhanced) Identification', 'Bus Address', 'Customer', 'Customer location', 'Model / Version',
  'Hardware version', 'Firmware version', 'Software version', 'Parameter set identification', 'Access Code User',
  'Access Code Operator', 'Access Code System Operator', 'Access Code Developer', 'Password', 'Security key',
]);

const nameCache = new Map<string, string>();

export function quantityName(quantity: string): string {
  let n = nameCache.get(quantity);
  if (n !== undefined) return n;
  n = SPECIAL_NAMES[quantity];
  if (n === undefined) {
    const words = quantity.split(/[^A-Za-z0-9]+/).filter((x) => x !== '');
    n = words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join('');
    if (n === '') n = 'value';
  }
  if (nameCache.size < 1000) nameCache.set(quantity, n);
  return n;
}

function isDateRecord(r: WmbusRecord): boolean {
  return (r.VifQuantity === 'Date' || r.VifQuantity === 'Time & Date') && r.ValueString !== '' && r.VifEDescription === '';
}

const FUNCTION_NAMES: Record<string, 'max' | 'min' | 'error'> = {
  'Maximum Value': 'max',
  'Minimum Value': 'min',
  'Value during error state': 'error',
};

export function toValues(result: WmbusResult): DecodedValue[] {
  const records = result.Body.DataRecords;
  const dates = new Map<string, string>();
  for (const r of records) {
    const k = `${r.StorageNo}/${r.DifSubunit}`;
    if (isDateRecord(r) && !dates.has(k)) dates.set(k, r.ValueString);
  }
  const out: DecodedValue[] = [];
  for (const r of records) {
    if (r.Profile !== undefined) {
      profileValues(r, out);
      continue;
    }
    if (r.ValueInvalid === true || r.DifDataLength === 0) continue;
    const isText = TEXT_QUANTITIES.has(r.VifQuantity) || r.VifQuantity === 'Date' || r.VifQuantity === 'Time & Date'
      || (r.ValueString !== '' && Number.isNaN(Number(r.ValueString)));
    const v: DecodedValue = {
      name: r.Name ?? quantityName(r.VifQuantity),
      value: isText ? r.ValueString : r.ValueScaled,
      unit: r.VifUnit,
    };
    if (!isDateRecord(r)) {
      const d = dates.get(`${r.StorageNo}/${r.DifSubunit}`);
      if (d !== undefined) v.date = d;
    }
    if (r.StorageNo !== 0) v.storage = r.StorageNo;
    if (r.Tariff !== 0) v.tariff = r.Tariff;
    if (r.DifSubunit !== 0) v.subunit = r.DifSubunit;
    const fn = FUNCTION_NAMES[r.DifFunctionString];
    if (fn !== undefined) v.function = fn;
    if (r.VifEDescription !== '') v.description = r.VifEDescription;
    out.push(v);
  }
  return out;
}

/** One dated value per valid compact-profile element, with the element's own storage number. */
function profileValues(r: WmbusRecord, out: DecodedValue[]): void {
  for (const e of r.Profile?.Entries ?? []) {
    if (e.ValueScaled === null) continue;
    const v: DecodedValue = { name: r.Name ?? quantityName(r.VifQuantity), value: e.ValueScaled, unit: r.VifUnit, storage: e.StorageNo };
    if (e.Date !== undefined) v.date = e.Date;
    if (r.Tariff !== 0) v.tariff = r.Tariff;
    if (r.DifSubunit !== 0) v.subunit = r.DifSubunit;
    const fn = FUNCTION_NAMES[r.DifFunctionString];
    if (fn !== undefined) v.function = fn;
    if (r.VifEDescription !== '') v.description = r.VifEDescription;
    out.push(v);
  }
}
