/**
 * Diehl group frames (manufacturers DME, EWT, HYD, SAP, SPL) that bend the standard: facts from the
 * public wmbusmeters source (manufacturer_specificities.cc), written anew here.
 *
 * "Real data" frames (e.g. Hydrus IZAR RS 868): C 44/46, CI 7A, and bit 4 of the configuration word's
 * high byte set (a TPL security mode ≥ 16, manufacturer specific). Their A-field is sent as version,
 * type, ID instead of ID, version, type, and the payload after the short TPL header is XORed with a
 * 32-bit LFSR stream; the other seven bits of that configuration byte are a checksum of the plaintext.
 * PRIOS frames (CI A0–A7) use the same LFSR with another check; src/drivers/diehl-prios.ts reads them.
 */

const MANUFACTURERS = new Set(['DME', 'EWT', 'HYD', 'SAP', 'SPL']);

/** Offset of the first scrambled byte in a frame that starts with its L-field (after a short TPL header at 10). */
export const LFSR_PAYLOAD_START = 15;
/** Byte 14 is the configuration word's high byte: bit 4 marks real data, the others check the plaintext. */
const CFG_HIGH = 14;
const REAL_DATA_BIT = 0x10;

function u32be(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** An 8-byte key folded to an LFSR seed: XOR of its two big-endian halves. */
export function lfsrSeed(key: Uint8Array): number {
  return (u32be(key, 0) ^ u32be(key, 4)) >>> 0;
}

/** The two published default keys (used when no key is configured for the meter). */
export const DEFAULT_SEEDS: readonly number[] = ['39BC8A10E66D83F8', '51728910E66D83F8'].map((h) => lfsrSeed(Buffer.from(h, 'hex')));

/**
 * The LFSR stream XORed over `frame` from byte 15. The seed is mixed with bytes 2–9 of the frame as sent
 * (`origin`, before any address swap) and bytes 10–13. `stop` may end the walk early (a failed check
 * byte); it returns null then.
 */
export function lfsrDecode(origin: Uint8Array, frame: Uint8Array, seed: number, stop?: (out: Uint8Array, i: number) => boolean): Uint8Array | null {
  let key = (seed ^ u32be(origin, 2) ^ u32be(origin, 6) ^ u32be(frame, 10)) >>> 0;
  const out = new Uint8Array(Math.max(0, frame.length - LFSR_PAYLOAD_START));
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < 8; j++) {
      const bit = ((key >>> 1) ^ (key >>> 2) ^ (key >>> 11) ^ (key >>> 31)) & 1;
      key = ((key << 1) | bit) >>> 0;
    }
    out[i] = (frame[i + LFSR_PAYLOAD_START] ?? 0) ^ (key & 0xff);
    if (stop?.(out, i) === true) return null;
  }
  return out;
}

/** A real-data frame (see above): needs the address swap and the LFSR. `frame` starts with its L-field. */
export function isDiehlRealData(frame: Uint8Array, manufacturer: string): boolean {
  const c = frame[1];
  return frame.length > LFSR_PAYLOAD_START && MANUFACTURERS.has(manufacturer) && (c === 0x44 || c === 0x46)
    && frame[10] === 0x7a && ((frame[CFG_HIGH] ?? 0) & REAL_DATA_BIT) !== 0;
}

/** The first ten bytes with the A-field in standard order (ID, version, type); the rest is not copied. */
export function standardAddress(frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame.subarray(0, 10));
  out.set(frame.subarray(6, 10), 4);
  out[8] = frame[4] ?? 0;
  out[9] = frame[5] ?? 0;
  return out;
}

/** The plaintext's byte sum, masked like the check bits of the configuration byte. */
export function realDataChecks(frame: Uint8Array, plain: Uint8Array): boolean {
  let sum = 0;
  for (const b of plain) sum += b;
  return (sum & 0xef) === ((frame[CFG_HIGH] ?? 0) & 0xef);
}

/**
 * The real-data payload descrambled with the configured key (its first 8 bytes) or, without one, the
 * default keys; null when no seed gives a plaintext that matches the checksum.
 */
export function decryptRealData(frame: Uint8Array, key: Uint8Array | null): Uint8Array | null {
  const seeds = key !== null ? [lfsrSeed(key)] : DEFAULT_SEEDS;
  for (const seed of seeds) {
    const plain = lfsrDecode(frame, frame, seed);
    if (plain !== null && realDataChecks(frame, plain)) return plain;
  }
  return null;
}
