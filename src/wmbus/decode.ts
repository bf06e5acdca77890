/** Public entry points: `decode` (Lobaro-shaped result) and `parseHeader` (cheap identity). */
import { keyContext, keyIdentifier, type KeyContext } from './aes.js';
import { crc16 } from './crc.js';
import { WmbusError } from './errors.js';
import { type FormatCache, formatSignature } from './format-signature.js';
import { addFormatACrcs, detectFrame, type Frame } from './frame.js';
import { byteHex, hex0x, toBytes } from './hex.js';
import { cFieldName, type Address } from './link-layer.js';
import { parseCompact, parseFormat, parseRecords, type RecordsResult } from './records.js';
import { encryptionModeName } from './transport.js';
import type { WmbusAfl, WmbusBody, WmbusEll, WmbusHeader, WmbusResult } from './types.js';
import { walk, type Walk } from './walk.js';

export const PARSER_VERSION = 'oms-bridge-local 0.1.0';

/** Identity and security facts of a telegram, found without decrypting. */
export interface TelegramHeader {
  /** ID as printed on the meter: the link-layer ID (wired M-Bus: the long-header ID). */
  meterId: string;
  /** ID of a long TPL header when present (radio adapter: the meter behind it). */
  tplId?: string;
  /** Three-letter manufacturer code, e.g. "ELS". */
  manufacturer: string;
  deviceType: number;
  deviceTypeName: string;
  version: number;
  /** First CI field after the link layer. */
  ciField: number;
  /** TPL security mode (0, 5, 7, …); ELL encryption is reported by `ellEncrypted`. */
  securityMode: number;
  ellEncrypted: boolean;
  /** The header says the payload is encrypted (TPL security mode ≠ 0, or ELL AES-CTR). */
  encrypted: boolean;
  /** Encrypted per header, but the payload is visibly plain (2F2F / ELL CRC ok) — which proves nothing. */
  alreadyDecrypted: boolean;
  /** Encrypted per header; false only for a visibly plain payload when pre-decrypted data is accepted. */
  needsKey: boolean;
  sourceType: 'WMBUS' | 'MBUS';
}

export interface DecodeOptions {
  /**
   * AES-128 key, 32 hex digits or 16 bytes; for the deprecated DES modes 2 and 3 a DES key, 16 hex
   * digits or 8 bytes. null/undefined/"" = no key.
   */
  key?: string | Uint8Array | null;
  /**
   * When the telegram was received (ms since 1970). Only security mode 3 needs it: its DES IV holds the
   * date of transmission, which the telegram does not carry. Without it mode 3 does not decrypt.
   */
  receivedAt?: number;
  /** Learns formats from full frames and decodes compact frames (CI 79) with them. */
  formatCache?: FormatCache;
  /**
   * Take a plaintext payload under a header that says encrypted (2F2F, or an ELL CRC that checks)
   * as already decrypted. Default false: such a payload needs the key (without one the result says
   * DecryptionFailed; with a key that does not decrypt it, `unexpected_plaintext` is thrown),
   * because anyone can write it. For lab data and published test vectors only.
   */
  acceptPredecrypted?: boolean;
}

export interface HeaderOptions {
  /** As in DecodeOptions: a visibly plain payload then needs no key. Default false. */
  acceptPredecrypted?: boolean;
}

function parseKey(key: string | Uint8Array | null | undefined): KeyContext | null {
  if (key === null || key === undefined) return null;
  let bytes: Uint8Array;
  if (typeof key === 'string') {
    if (key.trim() === '') return null;
    try {
      bytes = toBytes(key);
    } catch {
      throw new WmbusError('invalid_hex', 'key is not valid hex');
    }
  } else {
    bytes = key;
  }
  if (bytes.length !== 16 && bytes.length !== 8) throw new WmbusError('invalid_hex', `key must be 16 bytes (AES-128) or 8 bytes (DES), got ${bytes.length}`);
  return keyContext(bytes);
}

/** The identity of the meter: DLL address, or the long TPL header on wired M-Bus. */
function identity(w: Walk): Address | null {
  if (w.dll !== null) return w.dll.address;
  return w.tpl?.address ?? null;
}

export function parseHeader(input: string | Uint8Array, opts: HeaderOptions = {}): TelegramHeader {
  const w = walkInput(input, null, false, true);
  const id = identity(w);
  const tpl = w.tpl;
  const needsKey = w.encrypted && !(w.alreadyDecrypted && opts.acceptPredecrypted === true);
  const h: TelegramHeader = {
    meterId: id?.idString ?? '',
    manufacturer: id?.manufacturer ?? '',
    deviceType: id?.deviceType ?? 0,
    deviceTypeName: id?.deviceTypeName ?? '',
    version: id?.version ?? 0,
    ciField: w.chain[0] ?? -1,
    securityMode: tpl?.mode ?? 0,
    ellEncrypted: w.ellEncrypted,
    encrypted: w.encrypted,
    alreadyDecrypted: w.alreadyDecrypted,
    needsKey,
    sourceType: w.frame.sourceType,
  };
  if (tpl?.address) h.tplId = tpl.address.idString;
  return h;
}

function walkInput(input: string | Uint8Array, key: KeyContext | null, tryDecrypt: boolean, acceptPlain: boolean, receivedAt?: number): Walk {
  try {
    const frame = detectFrame(toBytes(input));
    const w = walk(frame, key, tryDecrypt, acceptPlain, receivedAt);
    if (frame.layout === 'apl' && w.tpl === null) throw new WmbusError('unsupported_frame', 'no link layer and no known CI field');
    return w;
  } catch (e) {
    throw internalError(e);
  }
}

/** Anything but a WmbusError is a decoder bug, kept apart from telegram errors so tests can insist it never happens. */
function internalError(e: unknown): WmbusError {
  if (e instanceof WmbusError) return e;
  return new WmbusError('internal_error', `internal decoder error: ${(e as Error)?.message ?? String(e)}`);
}

export function decode(input: string | Uint8Array, opts: DecodeOptions = {}): WmbusResult {
  try {
    const key = parseKey(opts.key);
    const w = walkInput(input, key, true, opts.acceptPredecrypted === true, opts.receivedAt);
    return buildResult(w, key, opts.formatCache);
  } catch (e) {
    throw internalError(e);
  }
}

function header(w: Walk): WmbusHeader {
  const t = w.tpl;
  const a = t?.address ?? null;
  const cw = t?.cw ?? 0;
  const mode = t?.mode ?? 0;
  // One object literal (no spread, no later shape changes) keeps V8 on its fast path.
  const h: WmbusHeader = {
    Serial: a?.idNumber ?? 0,
    IdString: a?.idString ?? '',
    ManufacturerCode: a?.m ?? 0,
    MFieldCodeString: a?.manufacturer ?? '',
    MFieldLongString: a?.manufacturerName ?? '',
    Version: a?.version ?? 0,
    DeviceType: a !== null ? `0x${byteHex(a.deviceType)}` : '0x00',
    DeviceString: a?.deviceTypeName ?? '',
    EncryptionMode: mode,
    EncryptionModeString: encryptionModeName(mode),
    EncryptedBlocks: t?.blocks ?? 0,
    HopCount: cw & 0x01,
    IsAccessible: (cw & 0x4000) !== 0,
    IsBidirectionalMode: (cw & 0x8000) !== 0,
    IsSynchronous: (cw & 0x2000) !== 0,
    ReservedBit: (cw & 0x02) !== 0,
    TelegramType: 0,
    AccessNumber: t?.acc ?? w.ell?.acc ?? 0,
    StatusByte: t?.sts ?? 0,
    ConfigField: t ? [t.cwBytes[0], t.cwBytes[1]] : [0, 0],
  };
  if (t?.cfe !== undefined) {
    h.ConfigFieldExtension = t.cfe;
    h.KdfSelection = (t.cfe >> 4) & 3;
    h.KeyId = t.cfe & 0x0f;
  }
  return h;
}

function ellObject(w: Walk): WmbusEll | null {
  const e = w.ell;
  if (e === null) return null;
  const o: WmbusEll = { CiField: `0x${byteHex(e.ci)}`, CommunicationControl: e.cc, AccessNumber: e.acc, EncryptionMode: e.enc };
  if (e.sn !== null) o.SessionNumber = e.snValue;
  if (e.crcPos >= 0) {
    o.PayloadCrc = (w.frame.data[e.crcPos] ?? 0) | ((w.frame.data[e.crcPos + 1] ?? 0) << 8);
    if (w.ellCrcValid !== undefined) o.PayloadCrcValid = w.ellCrcValid;
  }
  if (e.address !== null) {
    o.MFieldCodeString = e.address.manufacturer;
    o.IdString = e.address.idString;
    o.Version = e.address.version;
    o.DeviceType = `0x${byteHex(e.address.deviceType)}`;
  }
  return o;
}

function aflObject(w: Walk): WmbusAfl | null {
  const a = w.afl;
  if (a === null) return null;
  const o: WmbusAfl = { FragmentationControl: a.fcl, FragmentId: a.fcl & 0xff, MoreFragments: (a.fcl & 0x4000) !== 0 };
  if (a.mcl !== undefined) {
    o.MessageControl = a.mcl;
    o.AuthenticationType = a.mcl & 0x0f;
  }
  if (a.ki !== undefined) o.KeyInformation = a.ki;
  if (a.mcrValue !== undefined) o.MessageCounter = a.mcrValue;
  if (a.mac !== undefined) o.Mac = hex0x(a.mac);
  if (a.ml !== undefined) o.MessageLength = a.ml;
  if (w.macValid !== undefined) o.MacValid = w.macValid;
  return o;
}

function rawWithCrc(f: Frame): Uint8Array {
  if (f.hasCrc || f.layout !== 'dll') return f.original;
  return addFormatACrcs(f.data);
}

function buildResult(w: Walk, key: KeyContext | null, cache: FormatCache | undefined): WmbusResult {
  const f = w.frame;
  const dll = w.dll;
  const id = identity(w);
  const body: WmbusBody = {
    Raw: w.apl !== null ? hex0x(w.apl, w.aplStart, w.aplEnd) : '0x',
    DataRecords: [],
    PayloadKnown: false,
    IsEncrypted: w.encrypted && !w.alreadyDecrypted && w.apl === null,
    DecryptionFailed: w.decryptionFailed,
    BlockCiField: w.ell !== null || w.afl !== null ? (w.tpl?.ci ?? 0) : 0,
  };
  let parsed: RecordsResult | null = null;
  let formatSig: number[] = [];
  let compact = false;
  if (w.apl !== null && !w.decryptionFailed) {
    const apl = w.apl;
    if (w.payload === 'records') {
      parsed = parseRecords(apl, w.aplStart, w.aplEnd);
      if (cache !== undefined && parsed.error === undefined && parsed.records.length > 0) {
        cache.set(formatOwner(w), formatSignature(parsed.signatureBytes), Uint8Array.from(parsed.headerBytes));
      }
    } else if (w.payload === 'compact') {
      compact = true;
      parsed = compactRecords(w, apl, cache);
    } else if (w.payload === 'format') {
      formatSig = learnFormatFrame(w, apl, cache);
    } else if (w.payload === 'mfct') {
      body.ManufacturerData = hex0x(apl, w.aplStart, w.aplEnd);
    }
  }
  if (parsed !== null) {
    body.DataRecords = parsed.records;
    if (parsed.manufacturerData !== undefined) body.ManufacturerData = hex0x(parsed.manufacturerData);
    if (parsed.moreRecordsFollow) body.MoreRecordsFollow = true;
    if (parsed.error !== undefined) body.BodyParseError = parsed.error;
  }
  if (w.error !== undefined) body.BodyParseError = w.error;
  // A TPL without APL (CI 8A/8B, e.g. ACC-NR) has nothing to decode, which is fully understood too.
  const nothingToDecode = w.payload === 'none' && w.tpl !== null && !w.encrypted;
  body.PayloadKnown = (nothingToDecode || (parsed !== null && parsed.error === undefined)) && w.error === undefined;
  const sig = parsed !== null ? parsed.signatureBytes : formatSig;
  const result: WmbusResult = {
    Raw: hex0x(f.data),
    RawWithCrc: hex0x(rawWithCrc(f)),
    FrameFormat: f.frameFormat === '' ? (f.layout === 'dll' ? 'A' : '') : f.frameFormat,
    Length: f.layout === 'dll' ? (f.data[0] ?? 0) : f.lField,
    CField: `0x${byteHex(dll?.c ?? w.mbusC)}`,
    CFieldString: `0x${byteHex(dll?.c ?? w.mbusC)} (${f.layout === 'apl' ? 'none' : cFieldName(dll?.c ?? w.mbusC)})`,
    MField: id !== null ? hex0x(id.mBytes) : '0x',
    MFieldCodeString: id?.manufacturer ?? '',
    MFieldLongString: id?.manufacturerName ?? '',
    Id: id?.idNumber ?? 0,
    IdString: id?.idString ?? '',
    Version: id?.version ?? 0,
    Device: `0x${byteHex(id?.deviceType ?? 0)}`,
    DeviceString: id?.deviceTypeName ?? '',
    CiField: `0x${byteHex(w.chain[0] ?? 0)}`,
    HeaderKnown: w.headerKnown,
    PayloadKnown: body.PayloadKnown,
    CrcValid: f.crcValid,
    HasCrc: f.hasCrc,
    SourceType: f.sourceType,
    IsCompactFrame: compact,
    FormatSignature: sig.length > 0 ? formatSignature(sig) : 0,
    FormatFrame: hex0x(Uint8Array.from(sig)),
    ParserVersion: PARSER_VERSION,
    Header: header(w),
    Ell: ellObject(w),
    Afl: aflObject(w),
    Body: body,
    AlreadyDecrypted: w.alreadyDecrypted,
    Authenticated: isAuthenticated(w),
    CiChain: w.chain.map((c) => `0x${byteHex(c)}`),
  };
  if (key !== null) result.KeyIdentifier = keyIdentifier(key);
  if (w.tpl?.address) result.TplIdString = w.tpl.address.idString;
  const warnings: string[] = [];
  if (f.lengthMismatch) warnings.push(`L-field ${f.data[0] ?? 0} does not match ${f.data.length - 1} bytes`);
  if (f.lFieldAdded) warnings.push('telegram had no L-field; one was added');
  if (w.plainRefused) warnings.push('payload is plaintext although the header says encrypted: not accepted without the key (acceptPredecrypted is off)');
  if (w.unsupportedKdf !== undefined) warnings.push(`security mode 7 with the reserved KDF selection ${w.unsupportedKdf} is not supported`);
  else if (w.unsupportedSecurity) warnings.push(`security mode ${w.tpl?.mode ?? `ELL ${w.ell?.enc ?? 0}`} is not supported`);
  if (w.keyLength !== undefined) warnings.push(`key length: security mode ${w.keyLength.mode} needs ${w.keyLength.need === 8 ? 'an' : 'a'} ${w.keyLength.need}-byte key, the configured key has ${w.keyLength.got} bytes`);
  if (w.diehlRealData && w.decryptionFailed) warnings.push(`Diehl real data: the LFSR with ${key !== null ? 'the configured key' : 'the default keys'} gives no plaintext that matches the checksum`);
  if (w.noReceptionTime) warnings.push('security mode 3 needs the reception time (receivedAt): its DES IV holds the date of transmission');
  if (w.dateUnchecked && w.decrypted) warnings.push('DES mode 3: the IV date is the day of reception; if the meter sent on another day, bytes 6–7 of the first block are wrong and no check shows it');
  if (warnings.length > 0) result.Warnings = warnings;
  return result;
}

/**
 * Whose formats a frame may teach and use: manufacturer, id, version and device type of the meter
 * (the long TPL header behind a radio adapter, else the link layer; "" for bare application data),
 * and whether the frame was decrypted with the key. The latter keeps a plaintext frame that anyone
 * can send with the meter's address from teaching the format its encrypted compact frames are read with.
 */
function formatOwner(w: Walk): string {
  const a = w.tpl?.address ?? w.dll?.address ?? null;
  const trust = isAuthenticated(w) ? 'key' : 'plain';
  return a === null ? trust : `${a.manufacturer}.${a.idString}.${a.version}.${a.deviceType}.${trust}`;
}

function isAuthenticated(w: Walk): boolean {
  return w.decrypted && !w.alreadyDecrypted && !w.decryptionFailed && !w.unsupportedSecurity;
}

/**
 * CI 79: format signature (2, LE) and full-frame CRC (2, LE), then data only (EN 13757-3 Annex G).
 * Data that does not fit the learnt format, or a full-frame CRC that does not match, is an error:
 * values read with the wrong format would be wrong values (issue 10: 10× the real reading).
 */
function compactRecords(w: Walk, apl: Uint8Array, cache: FormatCache | undefined): RecordsResult {
  let s = w.aplStart;
  // TPL modes 5/7 put the 2F2F check bytes in front of what they encrypt, here before the signature.
  const tplMode = w.tpl?.mode ?? 0;
  if ((tplMode === 5 || tplMode === 7) && (w.decrypted || w.alreadyDecrypted) && apl[s] === 0x2f && apl[s + 1] === 0x2f) s += 2;
  if (s + 4 > w.aplEnd) throw new WmbusError('decode_failed', 'compact frame shorter than its signature');
  const sig = (apl[s] ?? 0) | ((apl[s + 1] ?? 0) << 8);
  const fullCrc = (apl[s + 2] ?? 0) | ((apl[s + 3] ?? 0) << 8);
  const fmt = cache?.get(formatOwner(w), sig);
  if (fmt === undefined) {
    const id = identity(w);
    throw new WmbusError('format_unknown', `compact frame with format signature 0x${hex4(sig)} before its full frame was seen`, {
      formatSignature: sig, meterId: id?.idString ?? '', manufacturer: id?.manufacturer ?? '',
      // Who may use a format learnt for this frame: lets a trusted source (a driver's published formats) fill it in.
      formatOwner: formatOwner(w),
    });
  }
  const r = parseCompact(fmt, apl, s + 4, w.aplEnd);
  if (r.error !== undefined) {
    throw new WmbusError('crc_error', `compact frame does not fit the format with signature 0x${hex4(sig)}: ${r.error}`, { formatSignature: sig });
  }
  const checkCrc = cache?.checksFullFrameCrc(formatOwner(w), sig) !== false;
  if (checkCrc && r.expanded !== undefined && crc16(Uint8Array.from(r.expanded)) !== fullCrc) {
    throw new WmbusError('crc_error', `compact frame full-frame CRC mismatch under the format with signature 0x${hex4(sig)}`, { formatSignature: sig });
  }
  return r;
}

/**
 * CI 69/6A/6B format frame: length, signature (2, LE), DIF/VIF bytes — no values. The signature is
 * checked against the bytes before the format is learnt, so a frame cannot file a format under
 * another format's signature. Returns the signature bytes (FormatFrame).
 */
function learnFormatFrame(w: Walk, apl: Uint8Array, cache: FormatCache | undefined): number[] {
  const start = w.aplStart;
  if (start + 3 > w.aplEnd) throw new WmbusError('decode_failed', 'format frame shorter than its header');
  const len = apl[start] ?? 0;
  const sig = (apl[start + 1] ?? 0) | ((apl[start + 2] ?? 0) << 8);
  if (start + 3 + len > w.aplEnd) throw new WmbusError('decode_failed', `format frame announces ${len} format bytes, has ${w.aplEnd - start - 3}`);
  const format = apl.slice(start + 3, start + 3 + len);
  const parsed = parseFormat(format);
  if (typeof parsed === 'string') throw new WmbusError('decode_failed', `format frame: ${parsed}`);
  // Plain-text VIF text is left out of the signature (wmbusmeters) or kept in it (lvogt): either matches.
  if (formatSignature(parsed.signatureBytes) !== sig && crc16(format) !== sig) {
    throw new WmbusError('crc_error', `format frame signature 0x${hex4(sig)} does not match its format bytes (0x${hex4(formatSignature(parsed.signatureBytes))})`, { formatSignature: sig });
  }
  cache?.set(formatOwner(w), sig, Uint8Array.from(parsed.headerBytes));
  return parsed.signatureBytes;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
