/**
 * TPL security (EN 13757-7:2018 §9): mode 5 (AES-128-CBC, IV from address and access number)
 * and mode 7 (AES-128-CBC with IV 0 and an ephemeral key from KDF-A, OMS Vol.2 §9.2.4).
 */
import { cbcDecrypt, newKeyContext, type KeyContext } from './aes.js';
import { cmacBlocks, cmacOnce } from './cmac.js';

const ZERO_IV = new Uint8Array(16);

/** Bytes to decrypt: NNNN·16, or every whole block when NNNN is 0 or exceeds the data (as wmbusmeters). */
export function encryptedLength(blocks: number, available: number): number {
  const n = blocks * 16;
  if (n === 0 || n > available) return Math.floor(available / 16) * 16;
  return n;
}

/** Decrypted blocks followed by the unencrypted rest (partial encryption, OMS Annex N.5.3). */
function splice(dec: Uint8Array, d: Uint8Array, start: number, encLen: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(dec, 0);
  out.set(d.subarray(start + encLen, end), encLen);
  return out;
}

/** Mode 5: IV = M(2) ‖ ID(4) ‖ Ver ‖ Type ‖ ACC×8 (9.4.4). `address` is M…Type as sent. */
export function decryptMode5(ctx: KeyContext, address: Uint8Array, acc: number, d: Uint8Array, start: number, end: number, blocks: number): Uint8Array {
  const encLen = encryptedLength(blocks, end - start);
  const iv = new Uint8Array(16);
  iv.set(address.subarray(0, 8), 0);
  iv.fill(acc, 8);
  return splice(cbcDecrypt(ctx, iv, d.subarray(start, start + encLen)), d, start, encLen, end);
}

export interface Mode7Keys {
  kenc: Uint8Array;
  kmac: Uint8Array;
}

/**
 * KDF-A (EN 13757-7:2018 9.6.1): CMAC(K, D ‖ C ‖ ID ‖ 07×7); D = 00 for Kenc, 01 for Kmac on messages
 * from the meter, 10 / 11 on messages to the meter (`toMeter`).
 */
export function deriveMode7Keys(master: KeyContext, counter: Uint8Array, id: Uint8Array, toMeter = false): Mode7Keys {
  const input = new Uint8Array(32).fill(0x07);
  const dc = toMeter ? 0x10 : 0x00;
  for (const base of [0, 16]) {
    input[base] = base === 0 ? dc : dc | 0x01;
    input.set(counter.subarray(0, 4), base + 1);
    input.set(id.subarray(0, 4), base + 5);
  }
  const both = cmacBlocks(master, input);
  return { kenc: both.slice(0, 16), kmac: both.slice(16, 32) };
}

/** Mode 7: AES-128-CBC with IV 0 under Kenc (or the persistent key when no KDF is selected). */
export function decryptMode7(key: KeyContext, d: Uint8Array, start: number, end: number, blocks: number): Uint8Array {
  const encLen = encryptedLength(blocks, end - start);
  return splice(cbcDecrypt(key, ZERO_IV, d.subarray(start, start + encLen)), d, start, encLen, end);
}

export function ephemeralContext(key: Uint8Array): KeyContext {
  return newKeyContext(key);
}

/** AFL MAC check: AES-CMAC under Kmac, truncated to the transmitted length. */
export function macMatches(kmac: Uint8Array, input: Uint8Array, mac: Uint8Array): boolean {
  const full = cmacOnce(kmac, input);
  if (mac.length === 0 || mac.length > 16) return false;
  for (let i = 0; i < mac.length; i++) if (full[i] !== mac[i]) return false;
  return true;
}

export function startsWith2F2F(d: Uint8Array, off: number, end: number): boolean {
  return off + 2 <= end && d[off] === 0x2f && d[off + 1] === 0x2f;
}
