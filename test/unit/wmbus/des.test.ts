/**
 * TPL security modes 2 and 3 (DES-CBC): the public ActisLink telegram (mode 2) and telegrams built
 * here with node:crypto (single DES as des-ede3 with K‖K‖K), so every IV variant is known.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeWithDrivers, DriverRegistry } from '../../../src/drivers/index.js';
import { LocalParser } from '../../../src/parser/local/local-parser.js';
import { decode, toValues } from '../../../src/wmbus/index.js';

// wmbusmeters actislink test (Itron ActisLink, ALK, mode 2, key 0102030405060708): total 1 m³.
const ACTISLINK = '1E468B050100000004077A01001002BBD1EAFD0222F871CB70DA16C78AE098';
const ACTISLINK_KEY = '0102030405060708';

const KEY = '13579BDF02468ACE';
const WRONG = '1122334455667788';
const ID = '78563412';
const M = '8B05';
// 2F2F, volume 12.345 m³ (04 13 39300000), fill.
const PLAIN = Buffer.from('2F2F0413393000002F2F2F2F2F2F2F2F', 'hex');

function desEncrypt(key: string, iv: Buffer, data: Buffer): Buffer {
  const k = Buffer.from(key, 'hex');
  const c = createCipheriv('des-ede3-cbc', Buffer.concat([k, k, k]), iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** A frame with TPL mode `mode` (CW 10 0m) around `body`. */
function frame(mode: 2 | 3, body: Buffer): string {
  const rest = Buffer.concat([Buffer.from(`44${M}${ID}0407` + `7A2A0010${mode.toString(16).padStart(2, '0')}`, 'hex'), body]);
  return Buffer.concat([Buffer.from([rest.length]), rest]).toString('hex');
}

/** EN 13757-3 type G: day | year low 3 bits << 5, month | year high 4 bits << 4 (second byte). */
function dateG(d: Date): Buffer {
  const y = d.getUTCFullYear() % 100;
  return Buffer.from([d.getUTCDate() | ((y & 7) << 5), (d.getUTCMonth() + 1) | ((y >> 3) << 4)]);
}

function mode3Iv(date: Buffer): Buffer {
  return Buffer.concat([Buffer.from(ID, 'hex'), Buffer.from(M, 'hex'), date]);
}

const volume = (hex: string, opts: Parameters<typeof decode>[1]): number | undefined => toValues(decode(hex, opts)).find((v) => v.name === 'volume')?.value as number | undefined;
const none = new DriverRegistry();
const diag = (hex: string, opts: NonNullable<Parameters<typeof decode>[1]>) => decodeWithDrivers(hex, opts, none).KeyDiagnosis;

describe('TPL security modes 2 and 3 (DES-CBC)', () => {
  it('decrypts the public ActisLink mode-2 telegram to its stated 1 m³', () => {
    const r = decode(ACTISLINK, { key: ACTISLINK_KEY });
    expect(r.Header.EncryptionMode).toBe(2);
    expect(r.Authenticated).toBe(true);
    expect(toValues(r).find((v) => v.name === 'volume')).toMatchObject({ value: 1, unit: 'm^3' });
    expect(r.KeyIdentifier).toMatch(/^[0-9A-F]{64}$/);
  });

  it('mode 2: IV 0; whole blocks decrypt, a trailing part block stays as sent', () => {
    const ct = desEncrypt(KEY, Buffer.alloc(8), PLAIN);
    expect(volume(frame(2, ct), { key: KEY })).toBe(12.345);
    // 2F fill after the last whole block is left alone (and still parses as fill).
    expect(volume(frame(2, Buffer.concat([ct, Buffer.from('2F2F', 'hex')])), { key: KEY })).toBe(12.345);
  });

  it('mode 3: IV = ID ‖ M ‖ type-G date of the reception day; a wrong date is not detectable, so it is flagged', () => {
    const sent = new Date(Date.UTC(2026, 10, 30, 23, 10));
    const hex = frame(3, desEncrypt(KEY, mode3Iv(dateG(sent)), PLAIN));
    const r = decode(hex, { key: KEY, receivedAt: sent.getTime() + 30 * 60_000 });
    expect(toValues(r).find((v) => v.name === 'volume')?.value).toBe(12.345);
    expect(r.Warnings).toEqual([expect.stringMatching(/^DES mode 3: the IV date is the day of reception/)]);
    // Received after midnight: the IV date differs only in bytes 6–7, which the 2F2F check does not
    // cover; plaintext bytes 6–7 (here two bytes of the volume) come out wrong. This is why the warning exists.
    const next = decode(hex, { key: KEY, receivedAt: Date.UTC(2026, 11, 1, 0, 20) });
    expect(next.Body.DecryptionFailed).toBe(false);
    expect(toValues(next).find((v) => v.name === 'volume')?.value).not.toBe(12.345);
    // A wrong key still fails the check.
    expect(diag(hex, { key: WRONG, receivedAt: sent.getTime() })?.problem).toBe('wrong_key');
  });

  it('mode 3 without a reception time cannot decrypt, and says why', () => {
    const hex = frame(3, desEncrypt(KEY, mode3Iv(dateG(new Date())), PLAIN));
    const d = diag(hex, { key: KEY });
    expect(d?.problem).toBe('unsupported_mode');
    expect(d?.detail).toMatch(/reception time/);
  });

  it('diagnoses like AES: key_missing, wrong_key (no 2F2F), truncated (not a multiple of 8)', () => {
    const hex = frame(2, desEncrypt(KEY, Buffer.alloc(8), PLAIN));
    expect(diag(hex, { key: null })).toMatchObject({ problem: 'key_missing', detail: expect.stringContaining('no DES key') });
    expect(diag(hex, { key: WRONG })).toMatchObject({ problem: 'wrong_key', detail: expect.stringContaining('2F2F') });
    const cut = frame(2, desEncrypt(KEY, Buffer.alloc(8), PLAIN).subarray(0, 13));
    // The first block is still whole and decrypts to 2F2F 04 13 …, but the record is cut: decoding the
    // rest is the record parser's business. With the wrong key the length is the reason given.
    expect(diag(cut, { key: WRONG })).toMatchObject({ problem: 'truncated', detail: expect.stringContaining('13 bytes') });
  });

  it('checks the key length: DES modes take 8 bytes, AES modes 16; both are refused otherwise', () => {
    const hex = frame(2, desEncrypt(KEY, Buffer.alloc(8), PLAIN));
    const aesKey = `${KEY}${KEY}`;
    const r = decodeWithDrivers(hex, { key: aesKey }, none);
    expect(r.Body.DecryptionFailed).toBe(true);
    expect(r.KeyDiagnosis).toEqual({ problem: 'wrong_key', detail: 'security mode 2 (DES) needs an 8-byte key, the configured key has 16 bytes' });
    // OMS Annex N mode-5 example with an 8-byte key.
    const mode5 = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
    expect(diag(mode5, { key: KEY })?.detail).toBe('security mode 5 (AES-128) needs a 16-byte key, the configured key has 8 bytes');
    expect(() => decode(mode5, { key: '0102030405' })).toThrow(/16 bytes \(AES-128\) or 8 bytes \(DES\)/);
  });

  it('the local parser passes the reception time, so mode 3 decrypts in the bridge', async () => {
    const sent = new Date(Date.UTC(2026, 5, 15, 12));
    const hex = frame(3, desEncrypt(KEY, mode3Iv(dateG(sent)), PLAIN));
    const req = { ingestId: 'x', rawHex: hex, keyHex: KEY, header: null, mappings: { mappings: [] }, finalAttempt: true };
    const ok = await new LocalParser().parse({ ...req, rxTime: sent.toISOString() });
    expect(ok.values.find((v) => v.name === 'volume')?.value).toBe(12.345);
    await expect(new LocalParser().parse(req)).rejects.toMatchObject({ message: expect.stringMatching(/^unsupported_mode: .*reception time/) });
  });
});
