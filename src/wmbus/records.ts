/**
 * Application-layer data records (EN 13757-3:2018 §6): DIF [DIFE…] VIF [VIFE…] data.
 * One loop serves full frames (headers and data interleaved) and compact frames (headers from
 * the cached format, data from the telegram, EN 13757-3 Annex G).
 */
import { decodeBcd, decodeDateG, decodeDateTimeF, decodeDateTimeI, decodeDaylightK, decodeReal32, decodeReversedText, decodeSigned, decodeTimeJ, decodeUnsigned } from './data-types.js';
import { addDecimalText, float32ToString, scaleDecimalText, scaleInt } from './decimal.js';
import { hex, hex0x, readUintLE } from './hex.js';
import { expandProfiles, readProfile, type PendingProfile } from './compact-profile.js';
import type { WmbusRecord } from './types.js';
import { applyCombinable, applyCombinableExt, FB_TABLE, FD_TABLE, PRIMARY, RESERVED, type VifDef, type VifState } from './vif-tables.js';

const FUNCTIONS = ['Current Value', 'Maximum Value', 'Minimum Value', 'Value during error state'] as const;
const FORMATS = [
  'No data', 'signed binary (8 bits)', 'signed binary (16 bits), or date in G format',
  'signed binary (24 bits), or time in J format', 'signed binary (32 bits), or date/time in F format', '32 bit real',
  'signed binary (48 bits), or date/time in I format', 'signed binary (64 bits)', 'Selection for Readout',
  'BCD (2 digits)', 'BCD (4 digits)', 'BCD (6 digits)', 'BCD (8 digits)', 'variable length', 'BCD (12 digits)',
  'Special Functions',
] as const;
/** Data bytes per DIF data field (Table 4); D (LVAR) and F are handled apart. */
const DATA_LEN = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -1] as const;
const MAX_DIFE = 10;
const MAX_VIFE = 10;

export interface RecordsResult {
  records: WmbusRecord[];
  /** DIF/DIFE/VIF/VIFE bytes without plain-text VIF text: FormatFrame and the format signature. */
  signatureBytes: number[];
  /** Header bytes including plain-text VIF text, enough to re-read a compact frame. */
  headerBytes: number[];
  /** Re-expanded full frame (headers + data), for the compact-frame full-frame CRC. */
  expanded?: number[];
  error?: string;
  manufacturerData?: Uint8Array;
  moreRecordsFollow: boolean;
}

interface Vib {
  st: VifState;
  hdrStart: number;
  hdrEnd: number;
  /** Plain-text VIF text span inside the header, excluded from the signature. */
  textStart: number;
  textEnd: number;
  dif: number;
  dataField: number;
  storage: number;
  tariff: number;
  subunit: number;
}

const POW10 = new Map<number, number>();
function multiplier(factor: number, exp10: number): number {
  if (factor === 1) {
    let v = POW10.get(exp10);
    if (v === undefined) {
      v = Number(`1e${exp10}`);
      POW10.set(exp10, v);
    }
    return v;
  }
  return Number(`${factor}e${exp10}`);
}

function stateFrom(d: VifDef): VifState {
  return { unit: d.unit, quantity: d.quantity, exp10: d.exp10, factor: d.factor, kind: d.kind, desc: '', offset: '', error: false, profile: '' };
}

/** Reads DIB and VIB at `pos`; returns the header or an error text. */
function readHeader(h: Uint8Array, pos: number, end: number): Vib | string {
  const start = pos;
  const dif = h[pos++] ?? 0;
  let storage = (dif >> 6) & 1;
  let tariff = 0;
  let subunit = 0;
  let ext = (dif & 0x80) !== 0;
  let i = 0;
  while (ext) {
    if (pos >= end) return 'premature end in DIFE';
    if (i >= MAX_DIFE) return 'too many DIFEs';
    const e = h[pos++] ?? 0;
    storage += (e & 0x0f) * 2 ** (1 + 4 * i);
    tariff += ((e >> 4) & 3) * 2 ** (2 * i);
    subunit += ((e >> 6) & 1) * 2 ** i;
    ext = (e & 0x80) !== 0;
    i++;
  }
  if (pos >= end) return 'premature end: DIF without VIF';
  const vif = h[pos++] ?? 0;
  const code = vif & 0x7f;
  let textStart = -1;
  let textEnd = -1;
  let st: VifState;
  ext = (vif & 0x80) !== 0;
  if (vif === 0xfb || vif === 0xfd || vif === 0xef) {
    if (pos >= end) return 'premature end in VIF extension';
    const e = h[pos++] ?? 0;
    const table = vif === 0xfb ? FB_TABLE : vif === 0xfd ? FD_TABLE : undefined;
    st = stateFrom(table?.[e & 0x7f] ?? RESERVED);
    ext = (e & 0x80) !== 0;
  } else if (code === 0x7c) {
    // Plain-text VIF (Annex C): length + ASCII right after the VIF, as wmbusmeters and libmbus read it.
    if (pos >= end) return 'premature end in plain-text VIF';
    const len = h[pos++] ?? 0;
    if (pos + len > end) return 'premature end in plain-text VIF';
    textStart = pos - 1;
    textEnd = pos + len;
    st = stateFrom(RESERVED);
    st.unit = decodeReversedText(h, pos, len);
    st.quantity = 'Plain text unit';
    pos += len;
  } else {
    st = stateFrom(PRIMARY[code] ?? RESERVED);
  }
  let n = 0;
  let mfct = st.kind === 'mfct';
  while (ext) {
    if (pos >= end) return 'premature end in VIFE';
    if (n >= MAX_VIFE) return 'too many VIFEs';
    const e = h[pos++] ?? 0;
    ext = (e & 0x80) !== 0;
    n++;
    const v = e & 0x7f;
    if (mfct) continue;
    if (v === 0x7f) {
      // Table 15: the rest of the VIFE chain is manufacturer specific; the unit stays as declared.
      mfct = true;
      st.desc = st.desc === '' ? 'Manufacturer specific' : `${st.desc}; Manufacturer specific`;
    } else if (v === 0x7c && ext) {
      if (pos >= end) return 'premature end in VIFE';
      const x = h[pos++] ?? 0;
      ext = (x & 0x80) !== 0;
      applyCombinableExt(st, x & 0x7f);
    } else {
      applyCombinable(st, v);
    }
  }
  return { st, hdrStart: start, hdrEnd: pos, textStart, textEnd, dif, dataField: dif & 0x0f, storage, tariff, subunit };
}

interface DataOut {
  len: number;
  lvarHeader: number;
}

/** Size of the data of a header at `pos` in `b` (reads the LVAR byte); -1 when it does not fit. */
function dataSize(v: Vib, b: Uint8Array, pos: number, end: number): DataOut | null {
  const fixed = DATA_LEN[v.dataField] ?? -1;
  if (fixed >= 0) return pos + fixed <= end ? { len: fixed, lvarHeader: 0 } : null;
  if (pos >= end) return null;
  const lvar = b[pos] ?? 0;
  let len: number;
  if (lvar <= 0xbf) len = lvar;
  else if (lvar <= 0xcf) len = lvar - 0xc0;
  else if (lvar <= 0xdf) len = lvar - 0xd0;
  else if (lvar <= 0xef) len = lvar - 0xe0;
  else if (lvar <= 0xf4) len = 4 * (lvar - 0xec);
  else if (lvar === 0xf5) len = 48;
  else if (lvar === 0xf6) len = 64;
  else return null;
  return pos + 1 + len <= end ? { len, lvarHeader: 1 } : null;
}

function makeRecord(v: Vib, h: Uint8Array, b: Uint8Array, off: number, len: number, lvar: number): WmbusRecord {
  const st = v.st;
  const df = v.dataField;
  let value = 0;
  let valueString = '';
  let scaled = 0;
  let mult = 1;
  let invalid = st.error;
  const kind = st.kind;
  if (df === 0 || df === 8) {
    // no data
  } else if ((kind === 'date' || kind === 'datetime') && (df === 2 || df === 3 || df === 4 || df === 6)) {
    value = readUintLE(b, off, len);
    scaled = value;
    valueString = df === 2 ? decodeDateG(b, off) : df === 3 ? decodeTimeJ(b, off) : df === 4 ? decodeDateTimeF(b, off) : decodeDateTimeI(b, off);
  } else if (df === 13 && lvar <= 0xbf) {
    valueString = decodeReversedText(b, off, len);
  } else if (v.textStart < 0 && v.st.quantity.startsWith('Summertime') && df === 4) {
    value = readUintLE(b, off, len);
    scaled = value;
    valueString = decodeDaylightK(b, off);
  } else if (df === 5) {
    const f = decodeReal32(b, off);
    value = f;
    if (Number.isFinite(f)) {
      mult = multiplier(st.factor, st.exp10);
      valueString = scaleDecimalText(float32ToString(f), st.factor, st.exp10);
      scaled = Number(valueString);
    } else {
      invalid = true;
    }
  } else {
    let digits: string | null;
    const isBcd = df === 9 || df === 10 || df === 11 || df === 12 || df === 14 || (df === 13 && lvar >= 0xc0 && lvar <= 0xdf);
    if (isBcd) {
      digits = decodeBcd(b, off, len);
      if (digits !== null && df === 13 && lvar >= 0xd0 && digits !== '0') digits = `-${digits}`;
    } else if (df === 13 && lvar >= 0xf0) {
      digits = null;
      valueString = hex(b, off, off + len);
    } else if (kind === 'id' || kind === 'bits') {
      digits = len === 0 ? '0' : decodeUnsigned(b, off, len);
    } else {
      digits = len === 0 ? '0' : decodeSigned(b, off, len);
    }
    if (digits !== null) {
      value = Number(digits);
      if (kind === 'id' || kind === 'bits' || kind === 'mfct') {
        valueString = kind === 'id' && isBcd ? bcdPrinted(b, off, len) ?? digits : digits;
        scaled = value;
      } else {
        mult = multiplier(st.factor, st.exp10);
        valueString = scaleInt(digits, st.factor, st.exp10);
        if (st.offset !== '') valueString = addDecimalText(valueString, st.offset);
        scaled = Number(valueString);
      }
    } else if (valueString === '') {
      invalid = true;
    }
  }
  const rec: WmbusRecord = {
    DifDataLength: len,
    DifFunctionString: FUNCTIONS[(v.dif >> 4) & 3] ?? '',
    DifDataFormat: FORMATS[df] ?? '',
    DifSubunit: v.subunit,
    VifUnit: st.unit,
    VifQuantity: st.quantity,
    VifExponent: mult,
    VifEDescription: st.desc,
    Value: value,
    ValueScaled: scaled,
    ValueString: valueString,
    Tariff: v.tariff,
    StorageNo: v.storage,
    DifVif: hex0x(h, v.hdrStart, v.hdrEnd),
    Data: hex0x(b, off, off + len),
  };
  if (invalid) rec.ValueInvalid = true;
  return rec;
}

/** BCD identifiers keep their printed width ("00309924"). */
function bcdPrinted(b: Uint8Array, off: number, len: number): string | null {
  let s = '';
  for (let i = len - 1; i >= 0; i--) {
    const x = b[off + i] ?? 0;
    if (x >> 4 > 9 || (x & 15) > 9) return null;
    s += String.fromCharCode(0x30 + (x >> 4), 0x30 + (x & 15));
  }
  return s;
}

function pushHeader(out: RecordsResult, h: Uint8Array, v: Vib): void {
  for (let i = v.hdrStart; i < v.hdrEnd; i++) {
    const x = h[i] ?? 0;
    out.headerBytes.push(x);
    if (i < v.textStart || i >= v.textEnd) out.signatureBytes.push(x);
  }
}

/** Parses the records of a full application layer in b[start, end). Never throws. */
export function parseRecords(b: Uint8Array, start: number, end: number): RecordsResult {
  const out: RecordsResult = { records: [], signatureBytes: [], headerBytes: [], moreRecordsFollow: false };
  const profiles: PendingProfile[] = [];
  let pos = start;
  while (pos < end) {
    const dif = b[pos] ?? 0;
    if (dif === 0x2f) {
      pos++;
      continue;
    }
    if (dif === 0x0f || dif === 0x1f) {
      // Table 4 special functions: manufacturer data to the end; 1F = more records in the next telegram.
      out.manufacturerData = b.subarray(pos + 1, end);
      out.moreRecordsFollow = dif === 0x1f;
      break;
    }
    if (dif === 0x7f) {
      pos++;
      continue;
    }
    if ((dif & 0x0f) === 0x0f) {
      out.error = `reserved special DIF 0x${dif.toString(16)} at offset ${pos - start}`;
      break;
    }
    const v = readHeader(b, pos, end);
    if (typeof v === 'string') {
      out.error = `${v} at offset ${pos - start}`;
      break;
    }
    const size = dataSize(v, b, v.hdrEnd, end);
    if (size === null) {
      out.error = `premature end of data at offset ${v.hdrEnd - start}`;
      break;
    }
    const dataOff = v.hdrEnd + size.lvarHeader;
    const lvar = size.lvarHeader ? (b[v.hdrEnd] ?? 0) : 0;
    out.records.push(withProfile(makeRecord(v, b, b, dataOff, size.len, lvar), v, b, dataOff, size.len, lvar, profiles));
    pushHeader(out, b, v);
    pos = dataOff + size.len;
  }
  if (profiles.length > 0) expandProfiles(profiles, out.records);
  return out;
}

/** A compact profile record (LVAR binary data under VIFE 1E/1F/13) is noted for expansion once all records are read. */
function withProfile(rec: WmbusRecord, v: Vib, b: Uint8Array, off: number, len: number, lvar: number, pending: PendingProfile[]): WmbusRecord {
  if (v.st.profile === '' || v.dataField !== 13 || lvar > 0xbf) return rec;
  const p = readProfile(rec, v.st.profile, b, off, len, v.st.factor, v.st.exp10);
  if (p === null) return rec;
  rec.ValueString = ''; // the LVAR is a byte count here, not text
  rec.VifExponent = multiplier(v.st.factor, v.st.exp10);
  pending.push(p);
  return rec;
}

/**
 * DIF/VIF bytes of a format frame (CI 69/6A/6B) split like a full frame's: the bytes the
 * signature covers and the bytes needed to re-read compact frames. An error text when the
 * bytes are not a sequence of record headers.
 */
export function parseFormat(format: Uint8Array): Pick<RecordsResult, 'signatureBytes' | 'headerBytes'> | string {
  const out: RecordsResult = { records: [], signatureBytes: [], headerBytes: [], moreRecordsFollow: false };
  let pos = 0;
  while (pos < format.length) {
    const v = readHeader(format, pos, format.length);
    if (typeof v === 'string') return `${v} at offset ${pos}`;
    pushHeader(out, format, v);
    pos = v.hdrEnd;
  }
  return { signatureBytes: out.signatureBytes, headerBytes: out.headerBytes };
}

/** Compact frame (CI 79, Annex G): headers from the learnt format, data from b[start, end). */
export function parseCompact(format: Uint8Array, b: Uint8Array, start: number, end: number): RecordsResult {
  const out: RecordsResult = { records: [], signatureBytes: [], headerBytes: [], expanded: [], moreRecordsFollow: false };
  const profiles: PendingProfile[] = [];
  let hp = 0;
  let dp = start;
  while (hp < format.length) {
    const v = readHeader(format, hp, format.length);
    if (typeof v === 'string') {
      out.error = v;
      break;
    }
    const size = dataSize(v, b, dp, end);
    if (size === null) {
      out.error = `compact frame data too short for record ${out.records.length + 1}`;
      break;
    }
    const dataOff = dp + size.lvarHeader;
    const lvar = size.lvarHeader ? (b[dp] ?? 0) : 0;
    out.records.push(withProfile(makeRecord(v, format, b, dataOff, size.len, lvar), v, b, dataOff, size.len, lvar, profiles));
    pushHeader(out, format, v);
    for (let i = v.hdrStart; i < v.hdrEnd; i++) out.expanded?.push(format[i] ?? 0);
    for (let i = dp; i < dataOff + size.len; i++) out.expanded?.push(b[i] ?? 0);
    hp = v.hdrEnd;
    dp = dataOff + size.len;
  }
  if (out.error === undefined && dp < end) {
    let rest = dp;
    while (rest < end && b[rest] === 0x2f) rest++;
    if (rest < end) out.error = `${end - dp} bytes after the last compact record`;
  }
  if (profiles.length > 0) expandProfiles(profiles, out.records);
  return out;
}
