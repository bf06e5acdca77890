/**
 * TPL security modes 2 and 3 (DES-CBC, EN 13757-3:2004; deprecated and only named in EN 13757-7:2018
 * Table 19). Mode 2 uses IV 0; mode 3 an IV of the meter ID, its manufacturer and the date of
 * transmission, which is not in the telegram: the caller passes the reception time.
 *
 * Node's OpenSSL 3 refuses `des-cbc` (legacy provider), but three-key DES with K‖K‖K is single DES
 * (E_K ∘ D_K ∘ E_K = E_K), so `des-ede3-cbc` does the work without enabling legacy algorithms.
 */
import { createDecipheriv } from 'node:crypto';
import type { Address } from './link-layer.js';

export const DES_BLOCK = 8;

/** DES-CBC decryption of every whole 8-byte block from `start`; the rest stays as sent. */
export function decryptDes(key: Uint8Array, iv: Uint8Array, d: Uint8Array, start: number, end: number): Uint8Array {
  const encLen = Math.floor((end - start) / DES_BLOCK) * DES_BLOCK;
  const k = Buffer.from(key);
  const c = createDecipheriv('des-ede3-cbc', Buffer.concat([k, k, k]), iv);
  c.setAutoPadding(false);
  const out = new Uint8Array(end - start);
  out.set(c.update(d.subarray(start, start + encLen)), 0);
  out.set(d.subarray(start + encLen, end), encLen);
  return out;
}

/** EN 13757-3 data type G: day bits 0–4, year bits 5–7 and 12–15 (low, high), month bits 8–11. */
function dateG(t: Date): [number, number] {
  const y = t.getUTCFullYear() % 100;
  const m = t.getUTCMonth() + 1;
  return [(t.getUTCDate() & 0x1f) | ((y & 0x07) << 5), (m & 0x0f) | ((y & 0x78) << 1)];
}

/**
 * Mode-3 IV: ID(4, as sent) ‖ M(2) ‖ date of transmission as type G (wmbusmeters, after EN 13757-7:2018
 * Table 47), taken as the UTC day of reception. Only the first block depends on the IV, and its 2F2F
 * check bytes only on the ID part: a wrong date is not detectable, it garbles plaintext bytes 6–7. So one
 * date is used, not several candidates (the first would always "check"), and the caller is warned.
 */
export function mode3Iv(address: Address, receivedAt: number): Uint8Array {
  const iv = new Uint8Array(DES_BLOCK);
  iv.set(address.idBytes.subarray(0, 4), 0);
  iv.set(address.mBytes.subarray(0, 2), 4);
  const [d0, d1] = dateG(new Date(receivedAt));
  iv[6] = d0;
  iv[7] = d1;
  return iv;
}
