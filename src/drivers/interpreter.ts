/**
 * The one interpreter that runs every driver: adds the driver's named values to a decode result as
 * Lobaro-shaped records. Pure (no I/O), like src/wmbus; a telegram no driver matches passes through
 * with `Driver: "oms"`.
 */
import { decodeBcd, decodeDateG, decodeDateTimeF, decodeDateTimeI, decodeReal32, decodeSigned, decodeUnsigned } from '../wmbus/data-types.js';
import { addDecimalText, float32ToString, parseDecimal, scaleDecimalText, scaleInt } from '../wmbus/decimal.js';
import { hex0x } from '../wmbus/hex.js';
import type { WmbusRecord, WmbusResult } from '../wmbus/types.js';
import { type DecryptOutcome, decryptArea } from './decrypt-area.js';
import { priosPayload } from './diehl-prios.js';
import type { DriverArea, DriverBytesSource, DriverDefinition, DriverField, DriverRecordSource, DriverTlv, DriverXor } from './types.js';
import type { CompiledDriver, DriverRegistry } from './registry.js';

export const STANDARD_DRIVER = 'oms';

/** Hex text (with or without 0x) to bytes; the decoder wrote it, so it is well formed. */
function hexBytes(h: string | undefined): Uint8Array {
  if (h === undefined) return new Uint8Array(0);
  const s = h.startsWith('0x') ? h.slice(2) : h;
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Byte areas of one result, converted once and only when a field asks. */
export class Areas {
  private readonly cache = new Map<DriverArea, Uint8Array>();
  private readonly records = new Map<DriverRecordSource, Uint8Array>();
  private tlvValues: Map<number, Uint8Array> | undefined;
  private tlv: DriverTlv | undefined;
  private driver: DriverDefinition | undefined;
  /** Set once a field read area `decrypted`; `defaultKey`: the driver's published key was used. */
  decryption: (DecryptOutcome & { defaultKey: boolean }) | undefined;
  /** `key`: the meter's configured AES key, for a driver's `decrypt` step. */
  constructor(private readonly r: WmbusResult, private readonly key?: Uint8Array) {}

  /** The driver about to run: its tag list and decrypt step (match rules read neither area). */
  useDriver(def: DriverDefinition): void {
    this.driver = def;
    this.tlv = def.tlv;
    this.tlvValues = undefined;
    this.decryption = undefined;
  }

  get(area: DriverArea, record?: DriverRecordSource, tag?: string): Uint8Array {
    if (area === 'tlv') return this.tlvValue(tag);
    if (area === 'decrypted') return this.decrypted();
    if (area === 'record') {
      if (record === undefined) return new Uint8Array(0);
      let b = this.records.get(record);
      if (b === undefined) {
        b = hexBytes(this.r.Body.DataRecords.find((x) => matchesRecord(x, record))?.Data);
        this.records.set(record, b);
      }
      return b;
    }
    let b = this.cache.get(area);
    if (b === undefined) {
      const body = this.r.Body;
      b = area === 'prios' ? priosPayload(this.get('frame'))
        : hexBytes(area === 'apl' ? body.Raw : area === 'mfct' ? (body.ManufacturerData ?? '') : this.r.Raw);
      this.cache.set(area, b);
    }
    return b;
  }

  private decrypted(): Uint8Array {
    const spec = this.driver?.decrypt;
    if (spec === undefined) return new Uint8Array(0);
    if (this.decryption === undefined) {
      const fallback = this.driver?.defaultKey;
      const key = this.key ?? (fallback !== undefined ? Uint8Array.from(Buffer.from(fallback, 'hex')) : undefined);
      this.decryption = { ...decryptArea(this.get(spec.area), this.get('frame'), spec, key), defaultKey: this.key === undefined && key !== undefined };
    }
    return this.decryption.ok ? this.decryption.bytes : new Uint8Array(0);
  }

  /** Walks the tag list once; the first element of each tag wins. */
  private tlvValue(tag: string | undefined): Uint8Array {
    if (this.tlv === undefined || tag === undefined) return new Uint8Array(0);
    if (this.tlvValues === undefined) {
      const t = this.tlv;
      const b = this.get(t.area, t.record);
      const values = new Map<number, Uint8Array>();
      let pos = t.offset;
      while (pos < b.length) {
        const k = b[pos] ?? 0;
        const len = t.lengths[k.toString(16).toUpperCase().padStart(2, '0')];
        if (len === undefined || pos + 1 + len > b.length) break;
        if (!values.has(k)) values.set(k, b.subarray(pos + 1, pos + 1 + len));
        pos += 1 + len;
      }
      this.tlvValues = values;
    }
    return this.tlvValues.get(Number.parseInt(tag, 16)) ?? new Uint8Array(0);
  }
}

/** The VIF…VIFE part of a record's `DifVif` (DIF and DIFEs stripped), upper-case hex. */
export function vifPart(difVif: string): string {
  const h = difVif.startsWith('0x') ? difVif.slice(2) : difVif;
  let i = 0;
  let b = Number.parseInt(h.slice(0, 2), 16);
  i = 2;
  while ((b & 0x80) !== 0 && i < h.length) {
    b = Number.parseInt(h.slice(i, i + 2), 16);
    i += 2;
  }
  return h.slice(i).toUpperCase();
}

/** `s.difVif` is upper-case hex (registry.ts normalises it); the decoder writes `0x` + lower case. */
export function matchesRecord(rec: WmbusRecord, s: DriverRecordSource): boolean {
  if (s.difVif !== undefined && (rec.DifVif.length !== s.difVif.length + 2 || rec.DifVif.slice(2).toUpperCase() !== s.difVif)) return false;
  if (s.vif !== undefined && vifPart(rec.DifVif) !== s.vif) return false;
  if (s.quantity !== undefined && rec.VifQuantity !== s.quantity) return false;
  if (s.storage !== undefined && rec.StorageNo !== s.storage) return false;
  if (s.tariff !== undefined && rec.Tariff !== s.tariff) return false;
  if (s.subunit !== undefined && rec.DifSubunit !== s.subunit) return false;
  return true;
}

interface Raw {
  /** Exact integer or decimal text of the raw value, or the date text. */
  text: string;
  isDate: boolean;
  numeric: number;
  bytes: Uint8Array;
}

/**
 * Undoes a manufacturer's XOR obfuscation of the `count` bytes at `start`: each is XORed with the key
 * byte at `xor.offset` of the same area and, with a table, with byte i of the row the key's low nibble picks.
 */
function deobfuscate(b: Uint8Array, xor: DriverXor, start: number, count: number): Uint8Array | null {
  const key = b[xor.offset < 0 ? b.length + xor.offset : xor.offset];
  if (key === undefined) return null;
  const row = xor.table === undefined ? undefined : Buffer.from(xor.table[key & 0x0f] ?? '', 'hex');
  const out = Uint8Array.from(b);
  for (let i = 0; i < count && start + i < out.length; i++) out[start + i] = (out[start + i] ?? 0) ^ key ^ (row?.[i] ?? 0);
  return out;
}

const EPOCH_2000 = Date.UTC(2000, 0, 1);

/** Meter time as seconds since 2000-01-01 00:00 (32-bit little-endian), in the decoder's date text form. */
function secondsSince2000(b: Uint8Array, at: number): string {
  const s = Number(decodeUnsigned(b, at, 4));
  return new Date(EPOCH_2000 + s * 1000).toISOString().replace('.000Z', 'Z');
}

function readBytes(area: Uint8Array, src: DriverBytesSource, delta: number): Raw | null {
  const start = (src.offset < 0 ? area.length + src.offset : src.offset) + delta;
  if (start < 0) return null;
  const b = src.xor === undefined ? area : deobfuscate(area, src.xor, start, src.length ?? 8);
  if (b === null) return null;
  const enc = src.encoding;
  if (enc === 'bits') {
    let v = 0;
    let hi = start;
    for (const p of src.parts ?? []) {
      const at = start + p.offset;
      if (at < 0 || at >= b.length) return null;
      hi = Math.max(hi, at);
      v += (((b[at] ?? 0) >> (p.shift ?? 0)) & (p.mask ?? 0xff)) * 2 ** (p.place ?? 0);
    }
    return { text: String(v), isDate: false, numeric: v, bytes: b.subarray(start, hi + 1) };
  }
  const len = enc === 'date-g' ? 2 : enc === 'datetime-f' || enc === 'seconds-2000-le' ? 4 : enc === 'datetime-i' ? 6 : enc === 'float32-le' ? 4 : (src.length ?? 1);
  if (start + len > b.length) return null;
  const bytes = b.subarray(start, start + len);
  let text: string;
  let isDate = false;
  switch (enc) {
    case 'uint-le': text = decodeUnsigned(b, start, len); break;
    case 'int-le': text = decodeSigned(b, start, len); break;
    case 'uint-be': text = decodeUnsigned(Uint8Array.from(bytes).reverse(), 0, len); break;
    case 'int-be': text = decodeSigned(Uint8Array.from(bytes).reverse(), 0, len); break;
    case 'bcd-le': {
      const t = decodeBcd(b, start, len);
      if (t === null) return null;
      text = t;
      break;
    }
    case 'bcd-be': {
      const t = decodeBcd(Uint8Array.from(bytes).reverse(), 0, len);
      if (t === null) return null;
      text = t;
      break;
    }
    case 'float32-le': text = float32ToString(decodeReal32(b, start)); break;
    case 'date-g': text = decodeDateG(b, start); isDate = true; break;
    case 'datetime-f': text = decodeDateTimeF(b, start); isDate = true; break;
    case 'datetime-i': text = decodeDateTimeI(b, start); isDate = true; break;
    case 'seconds-2000-le': text = secondsSince2000(b, start); isDate = true; break;
    default: text = Buffer.from(bytes).toString('hex').toUpperCase(); isDate = true;
  }
  return { text, isDate, numeric: isDate ? 0 : Number(text), bytes };
}

function scaleText(text: string, scale: number | undefined): string {
  if (scale === undefined || scale === 1) return text;
  const s = parseDecimal(String(scale));
  const factor = Number(s.int);
  return text.includes('.') || text.includes('e') ? scaleDecimalText(text, factor, s.exp10) : scaleInt(text, factor, s.exp10);
}

function toRecord(f: DriverField, name: string, raw: Raw, difVif: string): WmbusRecord | null {
  const data = hex0x(raw.bytes);
  if (f.absent?.includes(data.slice(2).toUpperCase())) return null;
  let valueString: string;
  if (raw.isDate) valueString = raw.text;
  else if (f.lookup !== undefined) {
    const v = f.lookup[raw.text] ?? f.lookup.default;
    if (v === undefined) return null;
    valueString = String(v);
  } else valueString = scaleText(raw.text, f.scale);
  // Some meters count in thirds of a unit; the quotient is not a finite decimal, so 12 digits are kept.
  if (f.divide !== undefined && !raw.isDate) valueString = String(Number((Number(valueString) / f.divide).toPrecision(12)));
  return {
    DifDataLength: raw.bytes.length,
    DifFunctionString: 'Current Value',
    DifDataFormat: f.bytes?.encoding ?? 'record',
    DifSubunit: f.subunit ?? 0,
    VifUnit: f.unit,
    VifQuantity: f.quantity,
    VifExponent: f.scale ?? 1,
    VifEDescription: '',
    Value: raw.numeric,
    ValueScaled: raw.isDate ? raw.numeric : Number(valueString),
    ValueString: valueString,
    Tariff: f.tariff ?? 0,
    StorageNo: f.storage ?? 0,
    DifVif: difVif,
    Data: data,
    Name: name,
  };
}

/** Values of the driver's fields so far, hidden ones included, by name (for `sum` and `times`). */
type Named = Map<string, WmbusRecord>;

function negate(text: string): string {
  return text.startsWith('-') ? text.slice(1) : `-${text}`;
}

function sumRecord(f: DriverField, names: string[], named: Named): WmbusRecord | null {
  let total = '0';
  let bytes = 0;
  for (const n of names) {
    const minus = n.startsWith('-');
    const part = named.get(minus ? n.slice(1) : n);
    if (part === undefined) return null;
    total = addDecimalText(total, minus ? negate(part.ValueString) : part.ValueString);
    bytes += part.DifDataLength;
  }
  const v = Number(total);
  return {
    DifDataLength: bytes, DifFunctionString: 'Current Value', DifDataFormat: 'sum', DifSubunit: f.subunit ?? 0, VifUnit: f.unit,
    VifQuantity: f.quantity, VifExponent: 1, VifEDescription: '', Value: v, ValueScaled: v, ValueString: total,
    Tariff: f.tariff ?? 0, StorageNo: f.storage ?? 0, DifVif: '0x', Data: '0x', Name: f.name,
  };
}

/** Multiplies by the value of the field `times` names; null when that field has no value. */
function applyTimes(f: DriverField, r: WmbusRecord, named: Named): WmbusRecord | null {
  if (f.times === undefined) return r;
  const by = named.get(f.times);
  if (by === undefined) return null;
  const valueString = scaleText(r.ValueString, Number(by.ValueString));
  return { ...r, ValueString: valueString, ValueScaled: Number(valueString) };
}

function fieldRecords(f: DriverField, areas: Areas, records: WmbusRecord[], named: Named): WmbusRecord[] {
  const out: WmbusRecord[] = [];
  const emit = (r: WmbusRecord | null): void => {
    const scaled = r === null ? null : applyTimes(f, r, named);
    if (scaled === null) return;
    if (!named.has(scaled.Name ?? '')) named.set(scaled.Name ?? '', scaled);
    out.push(scaled);
  };
  if (f.sum !== undefined) {
    emit(sumRecord(f, f.sum, named));
    return out;
  }
  if (f.record !== undefined) {
    const src = f.record;
    const rec = records.find((r) => matchesRecord(r, src));
    if (rec === undefined || rec.ValueInvalid === true) return out;
    const text = src.use === 'raw' ? String(rec.Value) : rec.ValueString;
    const raw: Raw = { text, isDate: Number.isNaN(Number(text)), numeric: rec.Value, bytes: hexBytes(rec.Data) };
    emit(toRecord(f, f.name, raw, rec.DifVif));
    return out;
  }
  const src = f.bytes;
  if (src === undefined) return out;
  const b = areas.get(src.area, src.record, src.tag);
  const rep = f.repeat;
  const count = rep?.count ?? 1;
  for (let k = 0; k < count; k++) {
    const raw = readBytes(b, src, rep !== undefined ? k * rep.stride : 0);
    if (raw === null) continue;
    const name = rep !== undefined ? f.name.replace('{n}', String((rep.first ?? 1) + k * (rep.step ?? 1))) : f.name;
    emit(toRecord(f, name, raw, '0x'));
  }
  return out;
}

/** Runs one driver over a decode result, in place. */
export function runDriver(d: CompiledDriver, r: WmbusResult, areas: Areas = new Areas(r)): WmbusResult {
  // A driver without fields (it offers a default key or formats) interprets nothing itself;
  // decodeWithDrivers credits it when its key or format was used.
  if (d.def.fields.length === 0 && d.hide.size === 0) {
    r.Driver = STANDARD_DRIVER;
    return r;
  }
  const records = r.Body.DataRecords;
  const out: WmbusRecord[] = d.hide.size === 0 ? records.slice() : records.filter((x) => !d.hide.has(x.DifVif.slice(2).toUpperCase()));
  areas.useDriver(d.def);
  const named: Named = new Map();
  for (const r of out) if (r.Name !== undefined && !named.has(r.Name)) named.set(r.Name, r);
  for (const f of d.def.fields) {
    const made = fieldRecords(f, areas, records, named);
    if (f.hidden !== true) out.push(...made);
  }
  // The result is the caller's fresh decode; changing it in place spares a copy of every field.
  r.Body.DataRecords = out;
  r.Driver = d.def.id;
  noteDecryption(r, areas);
  return r;
}

/** What a driver's own decryption did, in the same words as the decoder's (flags, key diagnosis). */
function noteDecryption(r: WmbusResult, areas: Areas): void {
  const d = areas.decryption;
  if (d === undefined) return;
  if (d.ok) {
    if (d.defaultKey) r.DefaultKeyUsed = true;
    return;
  }
  const detail = d.problem === 'key_missing' ? `the manufacturer payload is encrypted and no AES key is configured for meter ${r.IdString || '?'}`
    : d.problem === 'wrong_key' ? `the manufacturer payload's check bytes do not match after decryption: wrong ${d.defaultKey ? 'default ' : ''}key`
      : 'the manufacturer payload is shorter than its encrypted block: the telegram was cut short';
  r.KeyDiagnosis ??= { problem: d.problem, detail };
  r.Warnings = [...(r.Warnings ?? []), `driver decryption failed: ${d.problem}`];
}

/**
 * The first matching driver's view of the result, or the result itself marked `"oms"`. `key`: the
 * meter's configured AES key, for drivers that decrypt a manufacturer payload themselves.
 */
export function applyDrivers(r: WmbusResult, registry: DriverRegistry, key?: Uint8Array): WmbusResult {
  // Most telegrams come from manufacturers without a driver: one Map lookup, no allocation.
  const areas = registry.manufacturersOf(r).length > 0 ? new Areas(r, key) : null;
  const d = areas !== null ? registry.find(r, areas) : null;
  if (d === null || areas === null) {
    r.Driver = STANDARD_DRIVER;
    return r;
  }
  return runDriver(d, r, areas);
}
