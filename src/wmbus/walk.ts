/**
 * Walks the CI chain of a telegram (ELL → AFL → TPL → APL, EN 13757-4/-7), decrypting on the way
 * when a key is given. Shared by `parseHeader` (no keys, no records) and `decode`.
 */
import type { KeyContext } from './aes.js';
import { aflMacInput, parseAfl, type Afl } from './afl.js';
import { ellCrcOk, ellDecrypt, parseEll, type Ell } from './ell.js';
import { WmbusError } from './errors.js';
import type { Frame } from './frame.js';
import { parseLinkLayer, type LinkLayer } from './link-layer.js';
import { decryptDes, mode3Iv } from './des.js';
import { decryptRealData, isDiehlRealData, LFSR_PAYLOAD_START, realDataChecks, standardAddress } from './diehl.js';
import { decryptMode5, decryptMode7, deriveMode7Keys, ephemeralContext, macMatches, startsWith2F2F } from './security.js';
import { isAflCi, isEllCi, isMfctCi, parseTpl, tplKind, type PayloadType, type Tpl } from './transport.js';

export interface Walk {
  frame: Frame;
  dll: LinkLayer | null;
  /** Wired M-Bus C and A fields. */
  mbusC: number;
  mbusA: number;
  chain: number[];
  ell: Ell | null;
  ellCrcValid?: boolean;
  afl: Afl | null;
  macValid?: boolean;
  tpl: Tpl | null;
  /** What the application bytes hold; `mfct` for CI A0–B7, `unknown` for an unknown CI. */
  payload: PayloadType | 'mfct' | 'unknown';
  /** Plaintext application bytes (after the TPL header) and their span. */
  apl: Uint8Array | null;
  aplStart: number;
  aplEnd: number;
  encrypted: boolean;
  ellEncrypted: boolean;
  /** Header mode: the body is visibly plain under an encryption claim. Decode mode: such a body was accepted. */
  alreadyDecrypted: boolean;
  /** A key turned ciphertext into a payload that checked (2F2F, ELL CRC; mode 7 MAC when sent). */
  decrypted: boolean;
  /** A plaintext body under an encryption claim was refused (no key, pre-decrypted data not accepted). */
  plainRefused: boolean;
  decryptionFailed: boolean;
  /** Encrypted with a method this decoder does not implement. */
  unsupportedSecurity: boolean;
  /** Mode 7 with a reserved KDF selection (2 or 3). */
  unsupportedKdf?: number;
  /** The key's length does not fit the mode: DES (modes 2, 3) takes 8 bytes, AES 16. */
  keyLength?: { need: number; got: number; mode: string };
  /** Mode 3 without the reception time its IV needs. */
  noReceptionTime?: boolean;
  /** Mode 3: the IV's date came from the reception time; 2F2F does not check it (see des.ts). */
  dateUnchecked?: boolean;
  /** Diehl real-data frame (diehl.ts): A-field swapped, payload LFSR-scrambled. */
  diehlRealData?: boolean;
  /** Its payload was descrambled (with the configured key or a published default seed). */
  descrambled?: boolean;
  headerKnown: boolean;
  error?: string;
}

const MAX_LAYERS = 8;

/**
 * `tryDecrypt` false: header mode (no decryption, a plain body is only noted). `acceptPlain`: take a
 * plaintext body under an encryption claim as the payload (pre-decrypted lab data).
 */
export function walk(frame: Frame, key: KeyContext | null, tryDecrypt: boolean, acceptPlain = false, receivedAt?: number): Walk {
  let d = frame.data;
  const end = d.length;
  const w: Walk = {
    frame, dll: null, mbusC: 0, mbusA: 0, chain: [], ell: null, afl: null, tpl: null, payload: 'none',
    apl: null, aplStart: 0, aplEnd: 0, encrypted: false, ellEncrypted: false, alreadyDecrypted: false,
    decrypted: false, plainRefused: false, decryptionFailed: false, unsupportedSecurity: false, headerKnown: true,
  };
  let pos: number;
  if (frame.layout === 'dll') {
    w.dll = parseLinkLayer(d);
    if (isDiehlRealData(d, w.dll.address.manufacturer)) {
      const standard = Uint8Array.from(d);
      standard.set(standardAddress(d), 0);
      w.dll = parseLinkLayer(standard);
      w.diehlRealData = true;
    }
    pos = 10;
  } else if (frame.layout === 'mbus') {
    w.mbusC = d[0] ?? 0;
    w.mbusA = d[1] ?? 0;
    pos = 2;
  } else {
    pos = 0;
  }
  for (let layer = 0; layer < MAX_LAYERS && pos < end; layer++) {
    const ci = d[pos] ?? 0;
    w.chain.push(ci);
    if (isEllCi(ci) && w.ell === null && w.afl === null) {
      const ell = parseEll(d, pos, end);
      if (typeof ell === 'string') return fail(w, ell);
      w.ell = ell;
      if (ell.crcPos >= 0 && ell.enc === 1) {
        w.ellEncrypted = true;
        w.encrypted = true;
        const plainOk = ellCrcOk(d, ell.crcPos, end);
        if (key !== null && tryDecrypt && w.dll !== null) {
          const dec = fits(w, key, AES_KEY, 'ELL AES-CTR') ? ellDecrypt(key, w.dll.addressBytes, ell, d, end) : d;
          if (dec !== d && ellCrcOk(dec, ell.crcPos, end)) {
            d = dec;
            w.ellCrcValid = true;
            w.decrypted = true;
          } else if (plainOk) {
            if (!takePlain(w, key, tryDecrypt, acceptPlain)) return w;
            w.ellCrcValid = true;
          } else {
            w.decryptionFailed = true;
            return w;
          }
        } else if (plainOk) {
          if (!takePlain(w, key, tryDecrypt, acceptPlain)) return w;
          w.ellCrcValid = true;
        } else {
          w.decryptionFailed = tryDecrypt;
          return w;
        }
      } else if (ell.crcPos >= 0) {
        w.ellCrcValid = ellCrcOk(d, ell.crcPos, end);
        if (ell.enc !== 0) {
          w.encrypted = true;
          w.unsupportedSecurity = true;
          return w;
        }
      }
      pos = ell.next;
      continue;
    }
    if (isAflCi(ci) && w.afl === null && w.tpl === null) {
      const afl = parseAfl(d, pos, end);
      if (typeof afl === 'string') return fail(w, afl);
      w.afl = afl;
      if ((afl.fcl & 0x4000) !== 0 || (afl.fcl & 0xff) > 1) {
        w.payload = 'other';
        w.error = `AFL fragment ${afl.fcl & 0xff} of a fragmented message: decode the reassembled message (reassembleAfl)`;
        return w;
      }
      pos = afl.next;
      continue;
    }
    if (isMfctCi(ci)) {
      w.payload = 'mfct';
      w.apl = d;
      w.aplStart = pos + 1;
      w.aplEnd = end;
      return w;
    }
    if (ci === 0x81 && w.tpl === null) {
      // Network layer (EN 13757-5): wmbusmeters skips one byte after the CI.
      pos += 2;
      continue;
    }
    if (tplKind(ci) === undefined || w.tpl !== null) {
      w.payload = 'unknown';
      w.headerKnown = false;
      return w;
    }
    const tpl = parseTpl(d, pos, end);
    if (typeof tpl === 'string') return fail(w, tpl);
    w.tpl = tpl;
    w.payload = tpl.payload;
    security(w, d, tpl, end, key, tryDecrypt, acceptPlain, receivedAt);
    return w;
  }
  return w;
}

const AES_KEY = 16;
const DES_KEY = 8;

/** The key has the length the mode needs; otherwise noted (a key_length problem, reported as wrong_key). */
function fits(w: Walk, key: KeyContext, need: number, mode: string): boolean {
  if (key.key.length === need) return true;
  w.keyLength = { need, got: key.key.length, mode };
  return false;
}

function fail(w: Walk, msg: string): Walk {
  w.headerKnown = false;
  w.error = msg;
  return w;
}

function setApl(w: Walk, buf: Uint8Array, start: number, end: number): void {
  w.apl = buf;
  w.aplStart = start;
  w.aplEnd = end;
}

/**
 * The header claims encryption but the body is visibly plain (2F2F, or an ELL CRC that checks).
 * Anyone can write such a body — it proves no key — so outside header mode it is taken only when
 * the caller accepts pre-decrypted data; otherwise it needs the key like ciphertext, and with a key
 * that did not produce it, it is refused (issue 10: a forged reading was published as real).
 */
function takePlain(w: Walk, key: KeyContext | null, tryDecrypt: boolean, acceptPlain: boolean): boolean {
  if (!tryDecrypt || acceptPlain) {
    w.alreadyDecrypted = true;
    return true;
  }
  if (key !== null) {
    throw new WmbusError('unexpected_plaintext', 'the header says encrypted, the key does not decrypt the body and the body is plaintext: refused as possibly forged');
  }
  w.plainRefused = true;
  w.decryptionFailed = true;
  return false;
}

function security(w: Walk, d: Uint8Array, tpl: Tpl, end: number, key: KeyContext | null, tryDecrypt: boolean, acceptPlain: boolean, receivedAt: number | undefined): void {
  const start = tpl.dataOffset;
  if (tpl.mode === 0 || tpl.headerType === 'none') {
    setApl(w, d, start, end);
    return;
  }
  w.encrypted = true;
  if (w.diehlRealData && start === LFSR_PAYLOAD_START) {
    realData(w, d, end, key, tryDecrypt, acceptPlain);
    return;
  }
  const plain = startsWith2F2F(d, start, end);
  const des = tpl.mode === 2 || tpl.mode === 3;
  if (!des && tpl.mode !== 5 && tpl.mode !== 7) {
    if (plain) {
      if (takePlain(w, key, tryDecrypt, acceptPlain)) setApl(w, d, start, end);
    } else {
      w.unsupportedSecurity = true;
    }
    return;
  }
  if (key === null || !tryDecrypt) {
    // Published test telegrams are often stored decrypted (wmbusmeters takes 2F2F as plaintext); here only on request.
    if (plain) {
      if (takePlain(w, key, tryDecrypt, acceptPlain)) setApl(w, d, start, end);
    } else {
      w.decryptionFailed = tryDecrypt;
    }
    return;
  }
  let dec: Uint8Array | null = null;
  if (des) {
    if (fits(w, key, DES_KEY, `${tpl.mode} (DES)`)) dec = desModes(w, d, tpl, end, key.key, receivedAt);
  } else if (fits(w, key, AES_KEY, `${tpl.mode} (AES-128)`)) {
    dec = tpl.mode === 5 ? mode5(w, d, tpl, end, key) : mode7(w, d, tpl, end, key);
  }
  if (dec !== null && startsWith2F2F(dec, 0, dec.length)) {
    if (w.macValid === false) {
      w.decryptionFailed = true;
      w.error = 'AFL MAC does not match';
      return;
    }
    setApl(w, dec, 0, dec.length);
    w.decrypted = true;
    return;
  }
  if (plain) {
    w.macValid = undefined;
    if (takePlain(w, key, tryDecrypt, acceptPlain)) setApl(w, d, start, end);
    return;
  }
  w.decryptionFailed = true;
}

/**
 * Diehl real data: LFSR with the configured key or the published default seeds, checked against the
 * configuration byte's checksum bits. A plaintext body whose sum already checks (published test
 * telegrams are stored descrambled) is taken like any visibly plain body (takePlain). Only 7 check bits
 * and published seeds: obfuscation, not authentication, so `decrypted` (Authenticated) is not set.
 */
function realData(w: Walk, d: Uint8Array, end: number, key: KeyContext | null, tryDecrypt: boolean, acceptPlain: boolean): void {
  const frame = d.subarray(0, end);
  const plainOk = realDataChecks(frame, frame.subarray(LFSR_PAYLOAD_START));
  const dec = tryDecrypt ? decryptRealData(frame, key?.key ?? null) : null;
  if (dec !== null) {
    setApl(w, dec, 0, dec.length);
    w.descrambled = true;
    return;
  }
  if (plainOk) {
    if (takePlain(w, key, tryDecrypt, acceptPlain)) setApl(w, d, LFSR_PAYLOAD_START, end);
    return;
  }
  w.decryptionFailed = tryDecrypt;
}

/**
 * Modes 2 and 3 (DES-CBC). Every whole 8-byte block is decrypted, as wmbusmeters does: its
 * configuration word's block count is an AES (16-byte) count and is not used for DES.
 */
function desModes(w: Walk, d: Uint8Array, tpl: Tpl, end: number, key: Uint8Array, receivedAt: number | undefined): Uint8Array | null {
  if (tpl.mode === 2) return decryptDes(key, new Uint8Array(8), d, tpl.dataOffset, end);
  const address = tpl.address ?? w.dll?.address;
  if (address === undefined) return null;
  if (receivedAt === undefined || !Number.isFinite(receivedAt)) {
    w.noReceptionTime = true;
    return null;
  }
  w.dateUnchecked = true;
  return decryptDes(key, mode3Iv(address, receivedAt), d, tpl.dataOffset, end);
}

function mode5(w: Walk, d: Uint8Array, tpl: Tpl, end: number, key: KeyContext): Uint8Array | null {
  const address = tpl.addressBytes ?? w.dll?.addressBytes ?? null;
  if (address === null) return null;
  return decryptMode5(key, address, tpl.acc, d, tpl.dataOffset, end, tpl.blocks);
}

/**
 * Mode 7 (EN 13757-7:2018 9.5/9.6). The KDF selection comes from the AFL key information when sent,
 * else from the CFE: 00 = persistent key (K itself encrypts and authenticates), 01 = KDF-A (ephemeral
 * Kenc/Kmac from K, the message counter and the meter ID), 10/11 = reserved (unsupported_mode).
 */
function mode7(w: Walk, d: Uint8Array, tpl: Tpl, end: number, key: KeyContext): Uint8Array | null {
  const ki = w.afl?.ki;
  const kdf = ki !== undefined ? (ki >> 4) & 3 : ((tpl.cfe ?? 0) >> 4) & 3;
  if (kdf > 1) {
    w.unsupportedKdf = kdf;
    w.unsupportedSecurity = true;
    return null;
  }
  const afl = w.afl;
  const mac = afl !== null && afl.mac !== undefined && afl.mac.length > 0 ? afl.mac : null;
  if (kdf === 0) {
    if (mac !== null && afl !== null) w.macValid = macMatches(key.key, aflMacInput(d, afl, end), mac);
    return decryptMode7(key, d, tpl.dataOffset, end, tpl.blocks);
  }
  const counter = tpl.counter ?? w.afl?.mcr;
  const id = tpl.address?.idBytes ?? w.dll?.address.idBytes;
  if (counter === undefined || counter.length < 4 || id === undefined) return null;
  const keys = deriveMode7Keys(key, counter, id, toMeter(w.dll?.c));
  if (mac !== null && afl !== null) w.macValid = macMatches(keys.kmac, aflMacInput(d, afl, end), mac);
  return decryptMode7(ephemeralContext(keys.kenc), d, tpl.dataOffset, end, tpl.blocks);
}

/** SND_UD (C 53/73) is sent to the meter: KDF-A then uses the derivation constants 10/11 instead of 00/01. */
function toMeter(c: number | undefined): boolean {
  return c === 0x53 || c === 0x73;
}

export function assertKnown(w: Walk): void {
  if (w.frame.layout === 'apl' && w.tpl === null) throw new WmbusError('unsupported_frame', 'no link layer and no known CI');
}
