/**
 * Byte layout of a telegram for the console's inspector (issue 14): which bytes are link layer, ELL,
 * AFL, TPL header, payload, and where each data record sits. Pure, no I/O.
 *
 * Offsets count in the frame as the decoder reads it: link-layer CRCs removed (format A/B), a missing
 * L-field added, a wired long frame without its 68 L L 68 start and CS 16 end. `hex` is exactly those
 * bytes; `plainHex` the same with decrypted bytes in place of the ciphertext (decryption keeps every
 * byte where it was: AES-CBC and AES-CTR here do not change lengths).
 */
import { keyContext, type KeyContext } from './aes.js';
import { WmbusError } from './errors.js';
import { detectFrame } from './frame.js';
import { hex, toBytes } from './hex.js';
import { parseRecords } from './records.js';
import { isAflCi, isEllCi, isMfctCi } from './transport.js';
import type { WmbusRecord } from './types.js';
import { walk, type Walk } from './walk.js';

export type LayerName = 'dll' | 'ell' | 'afl' | 'nwl' | 'tpl' | 'records' | 'compact' | 'format' | 'encrypted' | 'mfct' | 'payload' | 'unknown';

/** [start, end) in the frame bytes. */
export interface Span {
  start: number;
  end: number;
}

export interface Layer extends Span {
  name: LayerName;
}

export interface RecordSpan extends Span {
  /** Where the data bytes start (after DIF/DIFE/VIF/VIFE and an LVAR length byte). */
  dataStart: number;
  /** DIF and DIFEs, lower-case hex. */
  dif: string;
  /** VIF and VIFEs (plain-text VIF text included), lower-case hex. */
  vif: string;
  record: WmbusRecord;
}

export interface TelegramLayout {
  /** The frame bytes the offsets refer to, lower-case hex. */
  hex: string;
  /** `hex` with decrypted bytes in place of the ciphertext; null when nothing was decrypted. */
  plainHex: string | null;
  /** The input carried link-layer CRCs, which are not in `hex`. */
  crcRemoved: boolean;
  layers: Layer[];
  /** The payload's data records in byte order, as EN 13757-3 reads them (no driver), with their bytes; empty unless the payload is full-frame records. */
  records: RecordSpan[];
}

/** Start of the first CI after the link layer, by frame layout. */
const FIRST_CI = { dll: 10, mbus: 2, apl: 0 } as const;

/** Lays out `input` as decode() reads it with `key`. A frame the decoder cannot detect throws its WmbusError. */
export function telegramLayout(input: string, key: string | null): TelegramLayout {
  const frame = detectFrame(toBytes(input));
  const w = walkQuietly(frame, key === null || key === '' ? null : keyOf(key));
  const d = frame.data;
  const end = d.length;
  const layers: Layer[] = [];
  let pos = Math.min(FIRST_CI[frame.layout], end);
  if (pos > 0) layers.push({ name: 'dll', start: 0, end: pos });
  let payload: Span | null = null;
  for (const ci of w.chain) {
    if (pos >= end) break;
    if (isEllCi(ci) && w.ell !== null && w.ell.next > pos) {
      layers.push({ name: 'ell', start: pos, end: w.ell.next });
      pos = w.ell.next;
    } else if (isAflCi(ci) && w.afl !== null && w.afl.next > pos) {
      layers.push({ name: 'afl', start: pos, end: w.afl.next });
      pos = w.afl.next;
    } else if (ci === 0x81) {
      layers.push({ name: 'nwl', start: pos, end: Math.min(pos + 2, end) });
      pos = Math.min(pos + 2, end);
    } else if (isMfctCi(ci)) {
      layers.push({ name: 'mfct', start: pos, end });
      pos = end;
    } else if (w.tpl !== null && w.tpl.ci === ci && w.tpl.dataOffset >= pos) {
      layers.push({ name: 'tpl', start: pos, end: w.tpl.dataOffset });
      pos = w.tpl.dataOffset;
      if (pos < end) {
        payload = { start: pos, end };
        layers.push({ name: payloadName(w), start: pos, end });
        pos = end;
      }
    } else {
      break;
    }
  }
  // ELL-encrypted bytes that did not decrypt: the walk stopped at the ELL.
  if (pos < end) layers.push({ name: w.ellEncrypted && w.apl === null ? 'encrypted' : 'unknown', start: pos, end });

  const plain = plainBytes(w, d);
  const records = payload !== null && w.payload === 'records' && w.apl !== null
    ? locateRecords(plain, payload, parseRecords(w.apl, w.aplStart, w.aplEnd).records)
    : [];
  return { hex: hex(d), plainHex: plain === d ? null : hex(plain), crcRemoved: frame.hasCrc && frame.layout === 'dll', layers, records };
}

function keyOf(key: string): KeyContext {
  const bytes = toBytes(key);
  if (bytes.length !== 16) throw new WmbusError('invalid_hex', `key must be 16 bytes, got ${bytes.length}`);
  return keyContext(bytes);
}

/** As decode() walks; a body it refuses (plaintext under an encryption claim with a key) is laid out as headers only. */
function walkQuietly(frame: ReturnType<typeof detectFrame>, key: KeyContext | null): Walk {
  try {
    return walk(frame, key, true, false);
  } catch (e) {
    if (!(e instanceof WmbusError)) throw e;
    return walk(frame, null, false, false);
  }
}

function payloadName(w: Walk): LayerName {
  if (w.apl === null) return w.encrypted ? 'encrypted' : w.payload === 'records' ? 'records' : 'payload';
  if (w.payload === 'records' || w.payload === 'compact' || w.payload === 'format') return w.payload;
  return 'payload';
}

/** The frame with the plaintext in place: the walk's APL buffer is either the frame itself (or a same-length ELL plaintext) or the TPL payload alone. */
function plainBytes(w: Walk, d: Uint8Array): Uint8Array {
  const apl = w.apl;
  if (apl === null || apl === d) return d;
  if (apl.length === d.length) return apl;
  const start = w.tpl?.dataOffset;
  if (start === undefined || start + apl.length !== d.length) return d;
  const out = Uint8Array.from(d);
  out.set(apl, start);
  return out;
}

/**
 * Finds the records parseRecords() read in the payload: fill bytes (2F, 7F) skipped, then
 * each record's DIF…VIFE bytes (its DifVif), an LVAR byte for data field D, and its data bytes.
 * Stops at the first record that does not sit where expected rather than guess.
 */
function locateRecords(b: Uint8Array, payload: Span, records: WmbusRecord[]): RecordSpan[] {
  const out: RecordSpan[] = [];
  let pos = payload.start;
  for (const record of records) {
    while (pos < payload.end && (b[pos] === 0x2f || b[pos] === 0x7f)) pos++;
    const header = record.DifVif.replace(/^0x/, '');
    if (hex(b, pos, pos + header.length / 2) !== header.toLowerCase()) break;
    const dif = b[pos] ?? 0;
    let difLen = 1;
    while (difLen < header.length / 2 && ((b[pos + difLen - 1] ?? 0) & 0x80) !== 0) difLen++;
    const hdrEnd = pos + header.length / 2;
    const dataStart = hdrEnd + ((dif & 0x0f) === 0x0d ? 1 : 0);
    const recordEnd = dataStart + record.DifDataLength;
    if (recordEnd > payload.end) break;
    out.push({ start: pos, end: recordEnd, dataStart, dif: hex(b, pos, pos + difLen), vif: hex(b, pos + difLen, hdrEnd), record });
    pos = recordEnd;
  }
  return out;
}
