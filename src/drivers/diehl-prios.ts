/**
 * Diehl / Sappel PRIOS frames (IZAR and others, manufacturer CI A0–A7) scramble their payload with a
 * 32-bit LFSR seeded from the address, the CI and the next three bytes, XOR one of two published
 * default seeds. This is the one place that knows the scheme; drivers read the result as area "prios".
 * Facts from the public wmbusmeters source (manufacturer_specificities.cc); written anew here.
 */

/** Offset of the first scrambled byte in a frame that starts with its L-field. */
const PAYLOAD_START = 15;
/** The first descrambled byte of a PRIOS payload; anything else means the seed was wrong. */
const CHECK_BYTE = 0x4b;

function u32be(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** Default seeds (8-byte values folded to 32 bits by XOR of their halves). */
const SEEDS = ['39BC8A10E66D83F8', '51728910E66D83F8'].map((h) => {
  const b = Buffer.from(h, 'hex');
  return (u32be(b, 0) ^ u32be(b, 4)) >>> 0;
});

function descramble(frame: Uint8Array, seed: number): Uint8Array | null {
  let key = (seed ^ u32be(frame, 2) ^ u32be(frame, 6) ^ u32be(frame, 10)) >>> 0;
  const out = new Uint8Array(frame.length - PAYLOAD_START);
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < 8; j++) {
      const bit = ((key >>> 1) ^ (key >>> 2) ^ (key >>> 11) ^ (key >>> 31)) & 1;
      key = ((key << 1) | bit) >>> 0;
    }
    out[i] = (frame[i + PAYLOAD_START] ?? 0) ^ (key & 0xff);
    if (i === 0 && out[0] !== CHECK_BYTE) return null;
  }
  return out;
}

/** The descrambled PRIOS payload of a whole frame (L-field first), or an empty array when no seed fits. */
export function priosPayload(frame: Uint8Array): Uint8Array {
  if (frame.length <= PAYLOAD_START) return new Uint8Array(0);
  for (const seed of SEEDS) {
    const p = descramble(frame, seed);
    if (p !== null) return p;
  }
  return new Uint8Array(0);
}
