/**
 * Diehl / Sappel PRIOS frames (IZAR and others, manufacturer CI A0–A7) scramble their payload with the
 * Diehl LFSR (src/wmbus/diehl.ts), seeded from the address, the CI and the next three bytes, XOR one of
 * two published default seeds. Drivers read the result as area "prios".
 */
import { DEFAULT_SEEDS, LFSR_PAYLOAD_START, lfsrDecode } from '../wmbus/diehl.js';

/** The first descrambled byte of a PRIOS payload; anything else means the seed was wrong. */
const CHECK_BYTE = 0x4b;

/** The descrambled PRIOS payload of a whole frame (L-field first), or an empty array when no seed fits. */
export function priosPayload(frame: Uint8Array): Uint8Array {
  if (frame.length <= LFSR_PAYLOAD_START) return new Uint8Array(0);
  for (const seed of DEFAULT_SEEDS) {
    const p = lfsrDecode(frame, frame, seed, (out, i) => i === 0 && out[0] !== CHECK_BYTE);
    if (p !== null) return p;
  }
  return new Uint8Array(0);
}
