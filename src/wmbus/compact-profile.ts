/**
 * Compact profiles (EN 13757-3:2018 Annex F; combinable VIFEs 1E, 1F, 13): one LVAR record carries a
 * series of evenly spaced values. The first data byte (spacing control) holds the increment mode
 * (bits 7–6), the spacing unit (bits 5–4: s, min, h, d) and the element size (bits 3–0, coded as a
 * DIF data field); the second the spacing value (0 = array, 1–250 units, 253 half month, 254 month or
 * 3/6 months). The series hangs off a base time (a date record with the profile's storage number) and,
 * for incremental modes, a base value (the same VIF, storage, tariff and subunit without the profile
 * VIFE). Element k (1…n) gets storage number base + k and time base ± k·spacing: forward for 1E/1F,
 * backward for the inverse profile 13, whose increments are subtracted. Pure.
 */
import { decodeBcd, decodeReal32, decodeSigned, decodeUnsigned } from './data-types.js';
import { float32ToString, scaleDecimalText, scaleInt } from './decimal.js';
import type { WmbusProfile, WmbusRecord } from './types.js';

export type ProfileType = WmbusProfile['Type'];

/** Data bytes per element-size code; 0, 8, D, F are not allowed in a profile. */
const ELEMENT_LEN = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, 0, 6, 0] as const;
const MODES = ['absolute', 'increments', 'decrements', 'difference'] as const;
const UNITS = ['s', 'min', 'h', 'd'] as const;
/** Most elements expanded per record: an LVAR holds at most 191 bytes. */
const MAX_ELEMENTS = 191;

/** What a profile record carries before the other records are known. */
export interface PendingProfile {
  record: WmbusRecord;
  type: ProfileType;
  mode: WmbusProfile['IncrementMode'];
  /** Spacing in the unit, or months; null = array (no time) or a reserved/half-month spacing. */
  step: { n: number; unit: 's' | 'min' | 'h' | 'd' | 'month' } | null;
  spacing: string;
  /** Element values as integer digit text (decimal text for reals); null = the "illegal" preset. */
  elements: Array<string | null>;
  factor: number;
  exp10: number;
}

/** Reads the profile bytes of a record's LVAR data b[off, off+len); null when they are not a profile. */
export function readProfile(record: WmbusRecord, type: ProfileType, b: Uint8Array, off: number, len: number, factor: number, exp10: number): PendingProfile | null {
  if (len < 2) return null;
  const control = b[off] ?? 0;
  const size = control & 0x0f;
  const elementLen = ELEMENT_LEN[size] ?? 0;
  if (elementLen === 0) return null;
  const mode = MODES[control >> 6] ?? 'absolute';
  const unitBits = (control >> 4) & 3;
  const value = b[off + 1] ?? 0;
  let step: PendingProfile['step'] = null;
  let spacing: string;
  if (value === 0) spacing = 'array';
  else if (value <= 250) {
    step = { n: value, unit: UNITS[unitBits] ?? 's' };
    spacing = `${value} ${step.unit}`;
  } else if (value === 254 && unitBits !== 0) {
    step = { n: unitBits === 3 ? 1 : unitBits === 2 ? 3 : 6, unit: 'month' };
    spacing = `${step.n} month`;
  } else spacing = value === 253 && unitBits === 3 ? 'half month' : 'reserved';
  const elements: Array<string | null> = [];
  const unsigned = mode === 'increments' || mode === 'decrements';
  for (let p = off + 2; p + elementLen <= off + len && elements.length < MAX_ELEMENTS; p += elementLen) {
    elements.push(element(b, p, size, elementLen, unsigned));
  }
  return { record, type, mode, step, spacing, elements, factor, exp10 };
}

/** One element as digit text; null for the "illegal" presets (Annex A types B and C) and bad BCD. */
function element(b: Uint8Array, p: number, size: number, len: number, unsigned: boolean): string | null {
  if (size >= 9) return decodeBcd(b, p, len);
  if (size === 5) {
    const f = decodeReal32(b, p);
    return Number.isFinite(f) ? float32ToString(f) : null;
  }
  let allOnes = true;
  let minSigned = (b[p + len - 1] ?? 0) === 0x80;
  for (let i = 0; i < len; i++) {
    const x = b[p + i] ?? 0;
    if (x !== 0xff) allOnes = false;
    if (i < len - 1 && x !== 0) minSigned = false;
  }
  if (unsigned) return allOnes ? null : decodeUnsigned(b, p, len);
  return minSigned ? null : decodeSigned(b, p, len);
}

function isDate(r: WmbusRecord): boolean {
  return (r.VifQuantity === 'Date' || r.VifQuantity === 'Time & Date') && r.ValueString !== '' && r.VifEDescription === '';
}

/** Shifts an RFC 3339 date or date-time by k steps (negative = back). Month steps keep the day, clamped to the month's end. */
function shift(base: string, step: NonNullable<PendingProfile['step']>, k: number): string | null {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(base);
  const t = Date.parse(dateOnly ? `${base}T00:00:00Z` : base);
  if (Number.isNaN(t)) return null;
  const d = new Date(t);
  if (step.unit === 'month') {
    const months = d.getUTCMonth() + k * step.n;
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(months);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
  } else {
    const ms = { s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[step.unit];
    d.setTime(d.getTime() + k * step.n * ms);
  }
  const iso = d.toISOString();
  return dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 19)}Z`;
}

/** Base value: same VIF without the profile VIFE, same storage, tariff and subunit, not itself a profile. */
function baseValue(p: PendingProfile, records: WmbusRecord[]): WmbusRecord | undefined {
  const r = p.record;
  const desc = r.VifEDescription.split('; ').filter((x) => !x.toLowerCase().includes('compact profile')).join('; ');
  return records.find((x) => x !== r && x.Profile === undefined && x.ValueInvalid !== true && x.StorageNo === r.StorageNo
    && x.Tariff === r.Tariff && x.DifSubunit === r.DifSubunit && x.VifQuantity === r.VifQuantity && x.VifUnit === r.VifUnit
    && x.VifEDescription === desc && x.DifFunctionString === r.DifFunctionString);
}

/**
 * Expands each pending profile into `record.Profile`, now that every record of the telegram is known.
 * Incremental values need the base value (else the entries stay without values); dates need the base time.
 */
export function expandProfiles(pending: PendingProfile[], records: WmbusRecord[]): void {
  for (const p of pending) {
    const r = p.record;
    const baseTime = records.find((x) => isDate(x) && x.StorageNo === r.StorageNo && x.DifSubunit === r.DifSubunit)?.ValueString;
    const back = p.type === 'inverse' ? -1 : 1;
    let running: bigint | null = null;
    if (p.mode !== 'absolute') {
      const base = baseValue(p, records);
      running = base !== undefined && Number.isSafeInteger(base.Value) ? BigInt(base.Value) : null;
    }
    const entries: WmbusProfile['Entries'] = [];
    for (const [i, raw] of p.elements.entries()) {
      const k = i + 1;
      let digits: string | null = null;
      if (p.mode === 'absolute') digits = raw;
      else if (running !== null && raw !== null && /^-?\d+$/.test(raw)) {
        const inc = BigInt(raw);
        // Increments are added going forward; the inverse profile walks back, so it subtracts them.
        const sign = (p.mode === 'decrements' ? -1n : 1n) * (back === 1 ? 1n : -1n);
        running += sign * inc;
        digits = running.toString();
      } else running = null; // an invalid increment loses the running value for the rest of the series
      const valueString = digits === null ? '' : /^-?\d+$/.test(digits) ? scaleInt(digits, p.factor, p.exp10) : scaleDecimalText(digits, p.factor, p.exp10);
      const entry: WmbusProfile['Entries'][number] = { StorageNo: r.StorageNo + k, ValueScaled: digits === null ? null : Number(valueString), ValueString: valueString };
      const date = baseTime !== undefined && p.step !== null ? shift(baseTime, p.step, back * k) : null;
      if (date !== null) entry.Date = date;
      entries.push(entry);
    }
    r.Profile = { Type: p.type, IncrementMode: p.mode, Spacing: p.spacing, Entries: entries };
  }
}
