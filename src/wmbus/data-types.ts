/**
 * Data types of EN 13757-3 Annex A: A (BCD), B (signed binary), C (unsigned), H (real32),
 * F/G/I/J (date and time). Values come back as exact decimal integer strings so the caller
 * can scale them without float rounding.
 */
import { readUintLE } from './hex.js';

/** Packed BCD, LE byte order; top nibble F = negative (type A). Returns null for other non-digits. */
export function decodeBcd(b: Uint8Array, off: number, len: number): string | null {
  let s = '';
  let neg = false;
  for (let i = len - 1; i >= 0; i--) {
    const v = b[off + i] ?? 0;
    const hi = v >> 4;
    const lo = v & 0x0f;
    if (i === len - 1 && hi === 0x0f) {
      neg = true;
    } else {
      if (hi > 9) return null;
      s += String.fromCharCode(0x30 + hi);
    }
    if (lo > 9) return null;
    s += String.fromCharCode(0x30 + lo);
  }
  let k = 0;
  while (k < s.length - 1 && s.charCodeAt(k) === 0x30) k++;
  s = s.slice(k);
  if (s === '') return null;
  return neg && s !== '0' ? `-${s}` : s;
}

/** Signed two's complement LE (type B), 1–8 bytes, exact. */
export function decodeSigned(b: Uint8Array, off: number, len: number): string {
  if (len <= 6) {
    const u = readUintLE(b, off, len);
    const half = 2 ** (8 * len - 1);
    return String(u >= half ? u - 2 * half : u);
  }
  return BigInt.asIntN(8 * len, unsignedBig(b, off, len)).toString();
}

/** Unsigned LE (type C), exact. */
export function decodeUnsigned(b: Uint8Array, off: number, len: number): string {
  if (len <= 6) return String(readUintLE(b, off, len));
  return unsignedBig(b, off, len).toString();
}

function unsignedBig(b: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

const F32 = new DataView(new ArrayBuffer(4));

/** IEEE-754 single precision, LE (type H). */
export function decodeReal32(b: Uint8Array, off: number): number {
  for (let i = 0; i < 4; i++) F32.setUint8(i, b[off + i] ?? 0);
  return F32.getFloat32(0, true);
}

function p2(v: number): string {
  return v < 10 ? `0${v}` : String(v);
}

/** Type G date (2 bytes). Year 0–127 is taken as 2000+year, as wmbusmeters and libmbus do. */
export function decodeDateG(b: Uint8Array, off: number): string {
  const b0 = b[off] ?? 0;
  const b1 = b[off + 1] ?? 0;
  const day = b0 & 0x1f;
  const month = b1 & 0x0f;
  const year = ((b0 & 0xe0) >> 5) | ((b1 & 0xf0) >> 1);
  return `${2000 + year}-${p2(month)}-${p2(day)}`;
}

/** Type F date and time (4 bytes), rendered RFC 3339 like Lobaro ("2008-05-31T23:50:00Z"). */
export function decodeDateTimeF(b: Uint8Array, off: number): string {
  const b0 = b[off] ?? 0;
  const b1 = b[off + 1] ?? 0;
  const b2 = b[off + 2] ?? 0;
  const b3 = b[off + 3] ?? 0;
  const minute = b0 & 0x3f;
  const hour = b1 & 0x1f;
  const hundred = (b1 >> 5) & 0x03;
  const day = b2 & 0x1f;
  const month = b3 & 0x0f;
  const y = ((b2 & 0xe0) >> 5) | ((b3 & 0xf0) >> 1);
  const year = hundred === 0 ? (y <= 80 ? 2000 + y : 1900 + y) : 1900 + 100 * hundred + y;
  return `${year}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}:00Z`;
}

/** True when the IV (invalid) bit of a type F value is set. */
export function dateTimeFInvalid(b: Uint8Array, off: number): boolean {
  return ((b[off] ?? 0) & 0x80) !== 0;
}

/** Type I date and time with seconds (6 bytes). */
export function decodeDateTimeI(b: Uint8Array, off: number): string {
  const second = (b[off] ?? 0) & 0x3f;
  const minute = (b[off + 1] ?? 0) & 0x3f;
  const hour = (b[off + 2] ?? 0) & 0x1f;
  const date = decodeDateG(b, off + 3);
  return `${date}T${p2(hour)}:${p2(minute)}:${p2(second)}Z`;
}

/** Type J time of day (3 bytes). */
export function decodeTimeJ(b: Uint8Array, off: number): string {
  return `${p2((b[off + 2] ?? 0) & 0x1f)}:${p2((b[off + 1] ?? 0) & 0x3f)}:${p2((b[off] ?? 0) & 0x3f)}`;
}

/** Type K daylight saving (4 bytes): begin, end (day, month) and deviation in hours. */
export function decodeDaylightK(b: Uint8Array, off: number): string {
  const beginDay = (b[off] ?? 0) & 0x1f;
  const beginMonth = (b[off + 1] ?? 0) & 0x0f;
  const endDay = (b[off + 2] ?? 0) & 0x1f;
  const endMonth = (b[off + 3] ?? 0) & 0x0f;
  const dev = ((b[off + 1] ?? 0) >> 4) & 0x0f;
  return `begin --${p2(beginMonth)}-${p2(beginDay)}, end --${p2(endMonth)}-${p2(endDay)}, deviation ${dev}h`;
}

/** ISO 8859-1 text stored last character first (LVAR 00–BF, plain-text VIF). */
export function decodeReversedText(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off + len - 1; i >= off; i--) s += String.fromCharCode(b[i] ?? 0);
  return s;
}
