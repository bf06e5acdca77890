import { WmbusError } from './errors.js';

/** Upper bound on input bytes: a wM-Bus frame B is at most 256 bytes, a wired long frame 261. */
export const MAX_INPUT_BYTES = 1024;

const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[0x41 + i] = 10 + i;
  NIBBLE[0x61 + i] = 10 + i;
}

const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(i.toString(16).padStart(2, '0'));

const WHITESPACE = /\s/;

/** Hex text (case-insensitive, whitespace and one leading `0x` tolerated) or bytes → a private copy. */
export function toBytes(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length > MAX_INPUT_BYTES) throw tooLong(input.length);
    return Uint8Array.from(input);
  }
  if (typeof input !== 'string') throw new WmbusError('invalid_hex', 'input must be a hex string or bytes');
  let s = input;
  if (s.length > MAX_INPUT_BYTES * 4) throw tooLong(s.length >> 1);
  if (WHITESPACE.test(s)) s = s.replace(/\s+/g, '');
  if (s.length >= 2 && s.charCodeAt(0) === 0x30 && (s.charCodeAt(1) | 0x20) === 0x78) s = s.slice(2);
  if (s.length === 0) throw new WmbusError('too_short', 'empty telegram');
  if ((s.length & 1) !== 0) throw new WmbusError('invalid_hex', 'odd number of hex digits', { length: s.length });
  const n = s.length >> 1;
  if (n > MAX_INPUT_BYTES) throw tooLong(n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c1 = s.charCodeAt(2 * i);
    const c2 = s.charCodeAt(2 * i + 1);
    const hi = c1 < 256 ? (NIBBLE[c1] ?? -1) : -1;
    const lo = c2 < 256 ? (NIBBLE[c2] ?? -1) : -1;
    if (hi < 0 || lo < 0) throw new WmbusError('invalid_hex', `invalid hex digit at position ${2 * i}`, { position: 2 * i });
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function tooLong(n: number): WmbusError {
  return new WmbusError('too_long', `telegram of ${n} bytes exceeds ${MAX_INPUT_BYTES}`, { bytes: n });
}

/** Lower-case hex without prefix. */
export function hex(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_HEX[b[i] ?? 0];
  return s;
}

/** Lower-case hex with `0x`, the Lobaro spelling of byte strings. */
export function hex0x(b: Uint8Array, start = 0, end = b.length): string {
  return `0x${hex(b, start, end)}`;
}

export function byteHex(v: number): string {
  return BYTE_HEX[v & 0xff] ?? '00';
}

/** Little-endian unsigned read of up to 6 bytes (exact in a double). */
export function readUintLE(b: Uint8Array, off: number, len: number): number {
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + (b[off + i] ?? 0);
  return v;
}
