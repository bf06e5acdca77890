/**
 * Why a telegram did not decrypt, in the four cases an operator can act on (issue 11, "keys"):
 * ask the vendor for a key (`key_missing`), fix a typo or a swapped key (`wrong_key`), check the
 * gateway's capture (`truncated`), or accept that the mode is not supported (`unsupported_mode`).
 * Pure; works on a decode result, so it needs no change to the security code.
 */
import type { WmbusResult } from './types.js';

export type KeyProblem = 'key_missing' | 'wrong_key' | 'truncated' | 'unsupported_mode';

export interface KeyDiagnosis {
  problem: KeyProblem;
  /** One sentence for logs and the CLI; never contains key material. */
  detail: string;
}

/** Length of an ELL header by CI (EN 13757-4 §13.2): CI, CC, ACC [, SN(4), CRC(2)] [, address(8)]. */
const ELL_LENGTH: Record<number, number> = { 0x8c: 3, 0x8d: 9, 0x8e: 11, 0x8f: 17 };
/** First CI of a wireless frame: L, C, M(2), ID(4), version, type. */
const FIRST_CI = 10;

/** Bytes after the TPL header, or null when the layer chain is not one this check knows. */
function tplPayloadLength(r: WmbusResult): number | null {
  if (r.SourceType !== 'WMBUS') return null;
  const frame = r.Raw.length / 2 - 1;
  let pos = FIRST_CI;
  for (const ciText of r.CiChain) {
    const ci = Number.parseInt(ciText, 16);
    const ell = ELL_LENGTH[ci];
    if (ell !== undefined) pos += ell;
    else if (ci === 0x90) pos += 2 + Number.parseInt(r.Raw.slice(2 + 2 * (pos + 1), 4 + 2 * (pos + 1)), 16);
    else if (ci === 0x7a) return frame - (pos + 5);
    else if (ci === 0x72) return frame - (pos + 13);
    else return null;
  }
  return null;
}

/** null when the telegram decrypted (or needed no key). `keyGiven`: a key was configured for it. */
export function keyDiagnosis(r: WmbusResult, keyGiven: boolean): KeyDiagnosis | null {
  const failed = r.Body.IsEncrypted || r.Body.DecryptionFailed || r.Afl?.MacValid === false;
  if (!failed) return null;
  const mode = r.Header.EncryptionMode;
  const unsupported = r.Warnings?.find((w) => w.startsWith('security mode'));
  if (unsupported !== undefined) {
    if (unsupported.includes('reception time')) return { problem: 'unsupported_mode', detail: unsupported };
    const what = unsupported.includes('KDF') ? unsupported : `security mode ${r.Ell?.EncryptionMode ? `ELL ${r.Ell.EncryptionMode}` : mode} is not supported`;
    return { problem: 'unsupported_mode', detail: `${what} (modes 2 and 3 with DES, 5, 7 with KDF 0 or 1, and ELL AES-CTR are)` };
  }
  const des = mode === 2 || mode === 3;
  if (!keyGiven) return { problem: 'key_missing', detail: `the telegram is encrypted (security mode ${r.Ell?.EncryptionMode ? 'ELL AES-CTR' : mode}) and no ${des ? 'DES' : 'AES'} key is configured for meter ${r.IdString || '?'}` };
  const lfsr = r.Warnings?.find((w) => w.startsWith('Diehl real data: '));
  if (lfsr !== undefined) return { problem: 'wrong_key', detail: lfsr.slice('Diehl real data: '.length) };
  const length = r.Warnings?.find((w) => w.startsWith('key length: '));
  if (length !== undefined) return { problem: 'wrong_key', detail: length.slice('key length: '.length) };
  if (r.Afl?.MacValid === false) return { problem: 'wrong_key', detail: 'the AFL MAC does not match: the key (or its KDF input) is wrong' };
  if (r.Ell !== null && r.Ell.EncryptionMode === 1 && r.Ell.PayloadCrcValid !== true) {
    return { problem: 'wrong_key', detail: 'the ELL payload CRC does not match after AES-CTR decryption: wrong key' };
  }
  const available = tplPayloadLength(r);
  if (des && available !== null && available % 8 !== 0) {
    return { problem: 'truncated', detail: `the DES-encrypted payload has ${available} bytes, not a multiple of 8: the telegram was cut short` };
  }
  const blocks = des ? 0 : r.Header.EncryptedBlocks;
  if (!des && available !== null && (blocks > 0 ? blocks * 16 > available : available % 16 !== 0)) {
    return { problem: 'truncated', detail: `the encrypted payload has ${available} bytes${blocks > 0 ? `, the header announces ${blocks} blocks of 16` : ', not a multiple of 16'}: the telegram was cut short` };
  }
  return { problem: 'wrong_key', detail: 'the key decrypts, but the plaintext does not start with 2F2F: wrong key' };
}
