/**
 * A driver's `decrypt` step: manufacturer payloads (CI A0–B7) that carry their own AES block, outside
 * the TPL security modes the decoder knows. Pure (node:crypto only); the key never leaves this call.
 */
import { cbcDecrypt, keyContext } from '../wmbus/aes.js';
import type { DriverDecrypt } from './types.js';

export type DecryptOutcome =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; problem: 'key_missing' | 'wrong_key' | 'truncated' };

/** Offset of the link-layer M-field in a frame that starts with its L-field; M, ID, version, type follow. */
const LINK_ADDRESS = 2;

/**
 * `area` with its encrypted bytes replaced by the plaintext, so fields keep the area's offsets.
 * `frame` is the whole frame (L-field first) for the `link-acc` IV.
 */
export function decryptArea(area: Uint8Array, frame: Uint8Array, spec: DriverDecrypt, key: Uint8Array | undefined): DecryptOutcome {
  if (key === undefined) return { ok: false, problem: 'key_missing' };
  // A DES key (8 bytes, TPL modes 2/3) configured for this meter cannot be an AES-128 key.
  if (key.length !== 16) return { ok: false, problem: 'wrong_key' };
  if (spec.offset + spec.length > area.length || spec.length % 16 !== 0 || spec.length === 0) return { ok: false, problem: 'truncated' };
  const iv = new Uint8Array(16);
  if (spec.iv === 'link-acc') {
    const acc = area[spec.acc ?? 0];
    if (acc === undefined || frame.length < LINK_ADDRESS + 8) return { ok: false, problem: 'truncated' };
    iv.set(frame.subarray(LINK_ADDRESS, LINK_ADDRESS + 8), 0);
    iv.fill(acc, 8);
  }
  const plain = cbcDecrypt(keyContext(key), iv, area.subarray(spec.offset, spec.offset + spec.length));
  if (spec.check !== undefined) {
    const want = Buffer.from(spec.check.hex, 'hex');
    const got = plain.subarray(spec.check.offset, spec.check.offset + want.length);
    if (!want.equals(got)) return { ok: false, problem: 'wrong_key' };
  }
  const out = Uint8Array.from(area);
  out.set(plain, spec.offset);
  return { ok: true, bytes: out };
}
