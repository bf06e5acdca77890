/**
 * Helpers for the public vectors test: load vectors, compare headers against `frame`, and look for
 * the expected values (wmbusmeters `<name>_<unit>` fields, OMS example records, lvogt legacy
 * records, m-bus-parser records) among the decoded records after unit conversion.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TelegramHeader, WmbusResult } from '../../../src/wmbus/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Vector = Record<string, any>;

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');
// The project's shared/ folder beside the checkout is authoritative when present; the copy in
// test/fixtures keeps the suite green on a fresh clone without it.
const sharedVectors = path.resolve(repoRoot, '..', 'shared', 'vectors', 'public.jsonl');
export const vectorsPath = existsSync(sharedVectors) ? sharedVectors : path.resolve(repoRoot, 'test', 'fixtures', 'public-vectors.jsonl');

export function loadVectors(file = vectorsPath): Vector[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Vector);
}

/** wmbusmeters writes `_`, `|`, `#` as visual separators inside hex; its reader skips them. */
export function cleanHex(s: string): string {
  return s.replace(/[_|#\s]/g, '');
}

export function realKey(v: Vector): string | null {
  return typeof v.key === 'string' && /^[0-9a-fA-F]{32}$/.test(v.key) ? v.key : null;
}

/** Vectors whose key was independently shown to decrypt real ciphertext. */
export function hasVerifiedKey(v: Vector): boolean {
  const cc: string[] = v.frame?.crypto_check ?? [];
  return realKey(v) !== null && cc.some((c) => /^(mode5_ok|mode7_ok|ell_ctr_ok)/.test(c));
}

/** Earlier telegrams of the same meter, in order (compact frames need the full frame first). */
export function priorTelegrams(v: Vector): string[] {
  const seq: string[] = Array.isArray(v.telegram_sequence) ? v.telegram_sequence.slice(0, -1) : [];
  const prior: string[] = Array.isArray(v.prior_telegrams) ? v.prior_telegrams : [];
  return [...prior, ...seq].map((t) => cleanHex(String(t)));
}

export function ciCodes(chain: string[] | undefined): string[] {
  return (chain ?? []).map((c) => /\(([0-9a-f]{2})\)/i.exec(c)?.[1]?.toLowerCase()).filter((x): x is string => x !== undefined);
}

/** Differences between the decoder's header and the independently computed `frame` facts. */
export function headerMismatches(v: Vector, h: TelegramHeader, r: WmbusResult | null): string[] {
  const f = v.frame ?? {};
  const out: string[] = [];
  const eq = (what: string, got: unknown, want: unknown): void => {
    if (want !== undefined && want !== null && got !== want) out.push(`${what}: got ${String(got)}, want ${String(want)}`);
  };
  if (f.kind === 'wmbus') {
    eq('sourceType', h.sourceType, 'WMBUS');
    eq('manufacturer', h.manufacturer, f.manufacturer);
    eq('meterId', h.meterId, f.dll_id);
    eq('version', h.version, f.dll_version !== undefined ? parseInt(f.dll_version, 16) : undefined);
    eq('deviceType', h.deviceType, f.dll_device_type !== undefined ? parseInt(f.dll_device_type, 16) : undefined);
    if (r !== null && f.c_field !== undefined) eq('CField', r.CField, `0x${f.c_field}`);
  } else if (f.kind === 'mbus_long_frame') {
    eq('sourceType', h.sourceType, 'MBUS');
    eq('meterId', h.meterId, f.tpl_id);
    eq('manufacturer', h.manufacturer, f.tpl_manufacturer);
  }
  eq('tplId', h.tplId, f.tpl_id);
  eq('securityMode', h.securityMode, f.tpl_security_mode);
  if (f.ell_security_mode !== undefined) eq('ellEncrypted', h.ellEncrypted, f.ell_security_mode === 1);
  const want = ciCodes(f.ci_chain);
  if (want.length > 0 && r !== null) {
    const got = r.CiChain.map((c) => c.slice(2));
    if (got.join('>') !== want.join('>')) out.push(`ci chain: got ${got.join('>')}, want ${want.join('>')}`);
  } else if (want.length > 0) {
    eq('ciField', h.ciField.toString(16).padStart(2, '0'), want[0]);
  }
  return out;
}

/** Unit suffix of a wmbusmeters field → (VifUnit → factor into that unit). */
const J_PER_KWH = 3.6e6;
export const SUFFIX_UNITS: Record<string, Record<string, number>> = {
  kwh: { Wh: 1e-3, J: 1 / J_PER_KWH, GJ: 1e9 / J_PER_KWH, MCal: 1.163 },
  mwh: { Wh: 1e-6, J: 1 / (J_PER_KWH * 1000), GJ: 1e9 / (J_PER_KWH * 1000) },
  gj: { GJ: 1, J: 1e-9, Wh: 3.6e-6 },
  wh: { Wh: 1 },
  kvarh: { 'kVAR/h': 1 },
  kvah: { 'kVA/h': 1 },
  m3: { 'm^3': 1, 'feet^3': 0.028316846592, 'American gallon': 0.003785411784 },
  l: { 'm^3': 1000 },
  m3h: { 'm^3/h': 1, 'm^3/min': 60, 'm^3/s': 3600 },
  lh: { 'm^3/h': 1000, 'm^3/min': 60000, 'm^3/s': 3.6e6 },
  c: { '°C': 1, K: 1 },
  k: { K: 1 },
  kw: { W: 1e-3, 'J/h': 1 / J_PER_KWH, 'GJ/h': 1e9 / J_PER_KWH },
  w: { W: 1, 'J/h': 1 / 3600 },
  v: { V: 1 },
  a: { A: 1 },
  hz: { Hz: 1 },
  h: { s: 1 / 3600 },
  d: { s: 1 / 86400, d: 1 },
  // wmbusmeters converts days to years with the Gregorian mean year.
  y: { s: 1 / (365.2425 * 86400), d: 1 / 365.2425, years: 1 },
  s: { s: 1 },
  min: { s: 1 / 60 },
  hca: { 'Units for H.C.A.': 1 },
  rh: { '%': 1 },
  pct: { '%': 1 },
  bar: { bar: 1 },
  kg: { kg: 1 },
  m3c: { 'm^3·°C': 1 },
  ppm: { ppm: 1 },
  dbm: { dBm: 1 },
};
/** Suffixes that are counts or ratios, not physical units. */
export const UNITLESS_SUFFIXES = new Set(['counter', 'factor', 'nr', 'count']);

export function unitFamily(suffix: string): string {
  const fam: Record<string, string> = {
    kwh: 'energy', mwh: 'energy', gj: 'energy', wh: 'energy', kvarh: 'energy', kvah: 'energy', m3c: 'energy',
    m3: 'volume', l: 'volume', m3h: 'flow', lh: 'flow', c: 'temperature', k: 'temperature', kw: 'power', w: 'power',
    v: 'electrical', a: 'electrical', hz: 'electrical', h: 'time', d: 'time', s: 'time', min: 'time', y: 'time',
    hca: 'hca', rh: 'humidity', pct: 'humidity', bar: 'pressure', kg: 'mass', ppm: 'other', dbm: 'other',
  };
  return fam[suffix] ?? 'other';
}

export function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(1e-6 * Math.abs(b), 5e-7);
}

/** Does any numeric record, or an element of an expanded compact profile, converted via `conv`, equal `want`? */
export function findValue(r: WmbusResult, want: number, conv: Record<string, number>): boolean {
  for (const rec of r.Body.DataRecords) {
    const f = conv[rec.VifUnit];
    if (f === undefined || rec.ValueInvalid === true) continue;
    if (rec.Profile?.Entries.some((e) => e.ValueScaled !== null && close(e.ValueScaled * f, want))) return true;
    if (rec.ValueString === '') continue;
    if (close(rec.ValueScaled * f, want)) return true;
  }
  return false;
}

export interface ExpectedValue {
  label: string;
  family: string;
  unitBearing: boolean;
  check: (r: WmbusResult) => boolean;
}

function normDate(s: string): string {
  return s.replace('T', ' ').replace(/Z$/, '').replace(/:00$/, '');
}

function findDate(r: WmbusResult, want: string): boolean {
  const w = normDate(want);
  return r.Body.DataRecords.some((rec) => rec.ValueString !== '' && normDate(rec.ValueString).startsWith(w));
}

/** Expected values of a vector in a comparable form. */
export function expectedValues(v: Vector): ExpectedValue[] {
  const e = v.expected ?? {};
  const out: ExpectedValue[] = [];
  if (v.driver) {
    for (const [k, val] of Object.entries(e)) {
      if (typeof val !== 'number') continue;
      const m = /_([a-z0-9]+)$/.exec(k);
      const suffix = m?.[1] ?? '';
      const conv = SUFFIX_UNITS[suffix];
      if (conv === undefined || UNITLESS_SUFFIXES.has(suffix)) continue;
      out.push({ label: `${k}=${val}`, family: unitFamily(suffix), unitBearing: true, check: (r) => findValue(r, val, conv) });
    }
    return out;
  }
  const recs: Vector[] = Array.isArray(e.records) ? e.records : [];
  for (const rec of recs) {
    const difVif = `0x${String(rec.dif_vif).toLowerCase()}`;
    const val = rec.value;
    out.push({
      label: `${rec.dif_vif}=${val}`,
      family: 'oms-example',
      unitBearing: rec.unit !== undefined,
      check: (r) => r.Body.DataRecords.some((x) => x.DifVif === difVif && x.StorageNo === (rec.storage ?? x.StorageNo)
        && (typeof val === 'number' ? close(x.ValueScaled, val) : normDate(x.ValueString).startsWith(normDate(String(val))))),
    });
  }
  const legacy: Vector[] = Array.isArray(e.dataRecord) ? e.dataRecord : [];
  const LEGACY_UNITS: Record<string, Record<string, number>> = {
    'm³': { 'm^3': 1 }, Wh: { Wh: 1 }, J: { J: 1 }, 'J/h': { 'J/h': 1 }, '°C': { '°C': 1 }, h: { s: 1 / 3600 },
    s: { s: 1 }, 'm³/h': { 'm^3/h': 1 }, W: { W: 1 },
  };
  for (const rec of legacy) {
    const val = rec.value;
    const conv = LEGACY_UNITS[rec.unit];
    const unitBearing = rec.unit !== '' && conv !== undefined;
    out.push({
      label: `${rec.description}=${val}${rec.unit}`,
      family: 'lvogt',
      unitBearing,
      check: (r) => typeof val === 'string' ? findDate(r, val)
        : conv !== undefined ? findValue(r, val, conv) : r.Body.DataRecords.some((x) => close(x.ValueScaled, val) || close(x.Value, val)),
    });
  }
  const mbp: Vector[] = Array.isArray(e.data_records) ? e.data_records : [];
  const MBP_UNITS: Record<string, Record<string, number>> = {
    '°C': { '°C': 1 }, '%RH': { '%': 1 }, Wh: { Wh: 1 }, W: { W: 1 }, V: { V: 1 }, HCA: { 'Units for H.C.A.': 1 },
    'm^3': { 'm^3': 1 }, kJ: { J: 1e-3 },
  };
  for (const rec of mbp) {
    const val = Number(rec.value) * 10 ** Number(rec.exponent ?? 0);
    const conv = MBP_UNITS[rec.unit] ?? {};
    out.push({ label: `${rec.value}e${rec.exponent}${rec.unit}`, family: 'm-bus-parser', unitBearing: true, check: (r) => findValue(r, val, conv) });
  }
  return out;
}

export function sourceKind(v: Vector): string {
  if (v.oms_or_en_example === true) return 'OMS/EN example';
  const s = String(v.source ?? '');
  if (s.startsWith('wmbusmeters')) return v.frame?.kind === 'mbus_long_frame' ? 'wmbusmeters wired' : 'wmbusmeters wireless';
  return s.split(' ')[0] ?? 'other';
}
