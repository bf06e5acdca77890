import { describe, expect, it } from 'vitest';
import { crc16 } from '../../../src/wmbus/crc.js';
import { decode, FormatCache, parseHeader, WmbusError } from '../../../src/wmbus/index.js';

const OMS_KEY = '0102030405060708090A0B0C0D0E0F11';
const OMS_PLAIN = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
/** The README meter's header (ELS 12345678, mode 5, 2 blocks) over a plaintext body with a made-up volume of 999999.99 m³. */
const FORGED = '2e4493157856341233037a2a0020052f2f0c1499999999046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f';
/** ELL-II with the encryption bit set whose payload CRC already checks on the plaintext. */
const ELL_PLAIN = '5c442d2c06357260190c8d207b70032f21271d7802f9ff15011104061765000004eeff07bfa8000004eeff08d24f00000414b1fb000002fd170000026ce919426cff184406f76400004414e8fa0000043b0b0000000259db11025d1c0b';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof WmbusError) return e.code;
    throw e;
  }
  return undefined;
}

describe('forged plaintext under an encryption header', () => {
  it('is not decoded into values by default: without a key it needs one', () => {
    const r = decode(FORGED);
    expect(r.AlreadyDecrypted).toBe(false);
    expect(r.Authenticated).toBe(false);
    expect(r.Body).toMatchObject({ IsEncrypted: true, DecryptionFailed: true, DataRecords: [] });
    expect(r.Warnings?.join(' ')).toContain('plaintext');
    expect(parseHeader(FORGED)).toMatchObject({ encrypted: true, alreadyDecrypted: true, needsKey: true });
  });

  it('is unexpected_plaintext when a key is given and does not decrypt it', () => {
    expect(codeOf(() => decode(FORGED, { key: OMS_KEY }))).toBe('unexpected_plaintext');
  });

  it('is decoded, marked unauthenticated, only when pre-decrypted data is accepted', () => {
    const r = decode(FORGED, { acceptPredecrypted: true });
    expect(r.AlreadyDecrypted).toBe(true);
    expect(r.Authenticated).toBe(false);
    expect(r.Body.DataRecords[0]?.ValueString).toBe('999999.99');
    expect(parseHeader(FORGED, { acceptPredecrypted: true })).toMatchObject({ alreadyDecrypted: true, needsKey: false });
    // With a key that does not decrypt it the lab option still takes the plaintext.
    expect(decode(FORGED, { key: OMS_KEY, acceptPredecrypted: true }).Authenticated).toBe(false);
  });

  it('a real mode 5 telegram decrypted with its key is authenticated, an unencrypted one is not', () => {
    expect(decode(OMS_PLAIN, { key: OMS_KEY })).toMatchObject({ Authenticated: true, AlreadyDecrypted: false });
    expect(decode('780306EB24004306E723000314285E00426CBF2C022D030001FF2100').Authenticated).toBe(false);
  });

  it('an ELL payload that is plaintext is refused the same way', () => {
    expect(decode(ELL_PLAIN).Body).toMatchObject({ DecryptionFailed: true, DataRecords: [] });
    expect(codeOf(() => decode(ELL_PLAIN, { key: OMS_KEY }))).toBe('unexpected_plaintext');
    expect(decode(ELL_PLAIN, { acceptPredecrypted: true }).Body.DataRecords.length).toBeGreaterThan(0);
  });
});

// EN 13757-3 Annex G: a full frame teaches the format, a compact frame (CI 79) carries only the data.
const RECORDS = '0306EB24004306E723000314285E00426CBF2C022D030001FF2100';
const FORMAT_BYTES = '03064306' + '0314' + '426C022D01FF21';
const COMPACT_BODY = '79e7f1a3fced2400e723002e5e00bf2c0d0000';

/** A wM-Bus frame (no CRCs) of an unencrypted water meter `id` with the given application bytes. */
function frame(id: string, apl: string): string {
  const idLe = id.match(/../g)!.reverse().join('');
  const rest = `44a511${idLe}0107${apl}`;
  return `${(rest.length / 2).toString(16).padStart(2, '0')}${rest}`;
}

function formatFrame(format: string, signature: number): string {
  const sig = `${(signature & 0xff).toString(16).padStart(2, '0')}${(signature >> 8).toString(16).padStart(2, '0')}`;
  return `69${(format.length / 2).toString(16).padStart(2, '0')}${sig}${format}`;
}

describe('compact frames: the format cache cannot be poisoned', () => {
  const sig = crc16(Buffer.from(FORMAT_BYTES, 'hex'));

  it('the real signature of the test format is 0xF1E7', () => {
    expect(sig).toBe(0xf1e7);
  });

  it('a format frame whose signature does not match its bytes is an error and is not learnt', () => {
    const cache = new FormatCache(8);
    decode(frame('11223344', `78${RECORDS}`), { formatCache: cache });
    // VIF 14 → 15: the same volume record at 10× its value, claiming the real format's signature.
    const forged = formatFrame(FORMAT_BYTES.replace('0314', '0315'), sig);
    expect(codeOf(() => decode(frame('11223344', forged), { formatCache: cache }))).toBe('crc_error');
    const r = decode(frame('11223344', COMPACT_BODY), { formatCache: cache });
    // 0x005E2E × 0.01 m³ under the real format; the forged one would have said 2411.
    expect(r.Body.DataRecords[2]).toMatchObject({ VifUnit: 'm^3', ValueString: '241.1' });
  });

  it('a format frame with a matching signature is learnt for its own meter only', () => {
    const cache = new FormatCache(8);
    expect(decode(frame('11223344', formatFrame(FORMAT_BYTES, sig)), { formatCache: cache }).Body.DataRecords).toEqual([]);
    expect(decode(frame('11223344', COMPACT_BODY), { formatCache: cache }).Body.DataRecords).toHaveLength(6);
    expect(codeOf(() => decode(frame('99887766', COMPACT_BODY), { formatCache: cache }))).toBe('format_unknown');
  });

  it('a format learnt from another meter is never used', () => {
    const cache = new FormatCache(8);
    decode(frame('99887766', `78${RECORDS}`), { formatCache: cache });
    expect(codeOf(() => decode(frame('11223344', COMPACT_BODY), { formatCache: cache }))).toBe('format_unknown');
  });

  it('a format learnt from a frame decrypted with the key is not used for a plaintext compact frame', () => {
    const cache = new FormatCache(8);
    expect(decode(OMS_PLAIN, { key: OMS_KEY, formatCache: cache })).toMatchObject({ Authenticated: true, FormatSignature: 0xef92 });
    const data = '27048502' + '32371f15' + '0000';
    const crc = crc16(Buffer.from(`0c14${data.slice(0, 8)}046d${data.slice(8, 16)}02fd17${data.slice(16)}`, 'hex'));
    const apl = `7992ef${(crc & 0xff).toString(16).padStart(2, '0')}${(crc >> 8).toString(16).padStart(2, '0')}${data}`;
    const plainCompact = `${(9 + apl.length / 2).toString(16)}449315785634123303${apl}`;
    expect(codeOf(() => decode(plainCompact, { formatCache: cache }))).toBe('format_unknown');
    // The same frame decodes once a plaintext full frame of that meter taught the format at its own level.
    decode(`1b449315785634123303780c14${data.slice(0, 8)}046d${data.slice(8, 16)}02fd17${data.slice(16)}`, { formatCache: cache });
    expect(decode(plainCompact, { formatCache: cache }).Body.DataRecords[0]?.ValueString).toBe('28504.27');
  });

  it('a compact frame whose full-frame CRC does not match is an error, never values', () => {
    const cache = new FormatCache(8);
    decode(frame('11223344', `78${RECORDS}`), { formatCache: cache });
    expect(codeOf(() => decode(frame('11223344', COMPACT_BODY.replace('ed2400', 'ee2400')), { formatCache: cache }))).toBe('crc_error');
    // Data that does not fit the learnt format at all is no better.
    expect(codeOf(() => decode(frame('11223344', COMPACT_BODY.slice(0, -6)), { formatCache: cache }))).toBe('crc_error');
  });
});

describe('internal errors stay distinguishable', () => {
  it('an exception that is not a decoder error is internal_error, not decode_failed', () => {
    class Broken extends FormatCache {
      override get(): Uint8Array | undefined {
        throw new TypeError('boom');
      }
    }
    expect(codeOf(() => decode(COMPACT_BODY, { formatCache: new Broken(2) }))).toBe('internal_error');
  });
});
