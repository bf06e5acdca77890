import { crc16, crcMatchesBE } from './crc.js';
import { WmbusError } from './errors.js';
import { isValidManufacturer } from './manufacturers.js';

/** What the first pass found out about the bytes: source, CRC handling, L-field. */
export interface Frame {
  sourceType: 'WMBUS' | 'MBUS';
  /** `dll`: L C M A CI… (CRCs removed); `mbus`: C A CI… of a wired long frame; `apl`: CI… only. */
  layout: 'dll' | 'mbus' | 'apl';
  data: Uint8Array;
  frameFormat: '' | 'A' | 'B';
  hasCrc: boolean;
  crcValid: boolean;
  /** The L-field as it applies to `data` (format B: lowered by the removed CRC bytes). */
  lField: number;
  /** L-field does not match the byte count (kept leniently, like wmbusmeters). */
  lengthMismatch: boolean;
  /** L-field was missing and has been added (telegram started at the C-field). */
  lFieldAdded: boolean;
  /** Input bytes as received when they carried CRCs. */
  original: Uint8Array;
}

/** C-fields a meter sends (EN 13757-4): used to recognise a telegram that starts at the C-field. */
const METER_C_FIELDS = new Set([0x44, 0x46, 0x47, 0x48, 0x08, 0x18, 0x28, 0x38]);

/** Total byte count of a format-A frame with CRCs (EN 13757-4): 10-byte block 1, then 16-byte blocks. */
export function formatATotal(l: number): number {
  if (l < 9) return -1;
  return l + 1 + 2 * (1 + Math.ceil((l - 9) / 16));
}

export function detectFrame(b: Uint8Array): Frame {
  const n = b.length;
  if (n < 2) throw new WmbusError('too_short', `telegram of ${n} bytes is too short`, { bytes: n });
  if (b[0] === 0x68 && n >= 6 && b[3] === 0x68 && b[1] === b[2]) {
    const wiredOk = n === (b[1] ?? 0) + 6 && b[n - 1] === 0x16;
    if (wiredOk || n !== 0x69) return wiredLongFrame(b);
  }
  if (b[0] === 0x10 && n === 5 && b[4] === 0x16) throw new WmbusError('unsupported_frame', 'wired M-Bus short frame carries no data');
  if (b[0] === 0xe5 && n === 1) throw new WmbusError('unsupported_frame', 'wired M-Bus single character');

  const l = b[0] ?? 0;
  const base: Frame = {
    sourceType: 'WMBUS', layout: 'dll', data: b, frameFormat: '', hasCrc: false, crcValid: false,
    lField: l, lengthMismatch: false, lFieldAdded: false, original: b,
  };
  if (n === l + 1) {
    const stripped = stripFormatB(b);
    if (stripped) return { ...base, data: stripped, frameFormat: 'B', hasCrc: true, crcValid: true, lField: stripped[0] ?? 0 };
    return base;
  }
  if (n === formatATotal(l)) {
    const stripped = stripFormatA(b);
    if (stripped !== null) return { ...base, data: stripped, frameFormat: 'A', hasCrc: true, crcValid: true };
  }
  // L-field missing: the telegram starts with a C-field, the next two bytes form a manufacturer code.
  const c0 = b[0] ?? 0;
  const c1 = b[1] ?? 0;
  if (n >= 11 && METER_C_FIELDS.has(c0) && !METER_C_FIELDS.has(c1) && isValidManufacturer(c1 | ((b[2] ?? 0) << 8))) {
    const withL = new Uint8Array(n + 1);
    withL[0] = n & 0xff;
    withL.set(b, 1);
    return { ...base, data: withL, lField: n & 0xff, lFieldAdded: true };
  }
  // A bare application layer (EN 13757-3 CI 78/79 without link layer), as some tools hand it over.
  if ((c0 === 0x78 || c0 === 0x79) && !METER_C_FIELDS.has(c1)) {
    return { ...base, layout: 'apl', lField: 0 };
  }
  return { ...base, lengthMismatch: true };
}

/**
 * Format A (EN 13757-4): block 1 = L C M A + CRC, then blocks of 16 data bytes + CRC. CRCs count as
 * present when at least one block checks; then any bad block is a `crc_error` naming it. With no block
 * checking, the length only matched by chance and the bytes are taken as a CRC-less frame.
 */
function stripFormatA(b: Uint8Array): Uint8Array | null {
  const l = b[0] ?? 0;
  const out = new Uint8Array(l + 1);
  let firstBad = crcMatchesBE(b, 0, 10, 10) ? 0 : 1;
  let good = firstBad === 0 ? 1 : 0;
  out.set(b.subarray(0, 10), 0);
  let src = 12;
  let dst = 10;
  let block = 2;
  while (dst < l + 1) {
    const len = Math.min(16, l + 1 - dst);
    if (crcMatchesBE(b, src, src + len, src + len)) good++;
    else if (firstBad === 0) firstBad = block;
    out.set(b.subarray(src, src + len), dst);
    src += len + 2;
    dst += len;
    block++;
  }
  if (good === 0) return null;
  if (firstBad !== 0) throw crcError(firstBad);
  return out;
}

/** Format B (EN 13757-4): one CRC over bytes 0–125 at 126/127, a second over the rest when L ≥ 128. */
function stripFormatB(b: Uint8Array): Uint8Array | null {
  const n = b.length;
  if (n < 12) return null;
  if (n <= 128) {
    if (!crcMatchesBE(b, 0, n - 2, n - 2)) return null;
    const out = b.slice(0, n - 2);
    out[0] = (b[0] ?? 0) - 2;
    return out;
  }
  if (n < 131) return null;
  if (!crcMatchesBE(b, 0, 126, 126) || !crcMatchesBE(b, 128, n - 2, n - 2)) return null;
  const out = new Uint8Array(n - 4);
  out.set(b.subarray(0, 126), 0);
  out.set(b.subarray(128, n - 2), 126);
  out[0] = (b[0] ?? 0) - 4;
  return out;
}

/** Wired M-Bus long frame (EN 13757-2): 68 L L 68 C A CI … CS 16, CS = byte sum of C…data. */
function wiredLongFrame(b: Uint8Array): Frame {
  const n = b.length;
  const l = b[1] ?? 0;
  if (n !== l + 6 || b[n - 1] !== 0x16) {
    throw new WmbusError('length_mismatch', `wired M-Bus frame: L=${l} needs ${l + 6} bytes, got ${n}`, { lField: l, bytes: n });
  }
  if (l < 3) throw new WmbusError('too_short', 'wired M-Bus frame without CI field');
  let sum = 0;
  for (let i = 4; i < 4 + l; i++) sum = (sum + (b[i] ?? 0)) & 0xff;
  if (sum !== b[4 + l]) throw new WmbusError('crc_error', 'wired M-Bus checksum mismatch', { block: 1, expected: sum, got: b[4 + l] });
  return {
    sourceType: 'MBUS', layout: 'mbus', data: b.subarray(4, 4 + l), frameFormat: '', hasCrc: true, crcValid: true,
    lField: l, lengthMismatch: false, lFieldAdded: false, original: b,
  };
}

function crcError(block: number): WmbusError {
  return new WmbusError('crc_error', `link-layer CRC mismatch in block ${block}`, { block });
}

/** Adds format-A CRCs to a CRC-less L C M A … frame (Lobaro's RawWithCrc). */
export function addFormatACrcs(d: Uint8Array): Uint8Array {
  const n = d.length;
  if (n < 10) return d;
  const blocks = 1 + Math.ceil((n - 10) / 16);
  const out = new Uint8Array(n + 2 * blocks);
  let src = 0;
  let dst = 0;
  let len = 10;
  while (src < n) {
    out.set(d.subarray(src, src + len), dst);
    const c = crc16(d, src, src + len);
    out[dst + len] = c >> 8;
    out[dst + len + 1] = c & 0xff;
    src += len;
    dst += len + 2;
    len = Math.min(16, n - src);
  }
  return out;
}
