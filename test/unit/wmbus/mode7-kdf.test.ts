/**
 * Security mode 7 with each KDF selection (EN 13757-7:2018 9.5–9.6). No public telegram uses the
 * persistent key, the AFL KI override, KDF-A in the "to meter" direction or a reserved selection, so
 * these vectors are self-made here with Node's crypto (AES-CBC, and CMAC per RFC 4493 written out
 * below, independent of src/wmbus/cmac.ts); the KDF-A/CMAC code itself is also checked against the
 * public OMS profile B example in security.test.ts.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, keyDiagnosis } from '../../../src/wmbus/index.js';

const KEY = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const ID = Buffer.from('78563412', 'hex');
const MCR = Buffer.from('B30A0000', 'hex');
// OMS example records (volume 28504.27 m³, date, error flags), filled to two blocks.
const PLAIN = Buffer.concat([Buffer.from('2f2f0c1427048502046d32371f1502fd170000', 'hex'), Buffer.alloc(13, 0x2f)]);

function aesBlock(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[15]! ^= 0x87;
  return out;
}

function cmac(key: Buffer, msg: Buffer): Buffer {
  const k1 = dbl(aesBlock(key, Buffer.alloc(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / 16));
  const last = Buffer.alloc(16);
  const complete = msg.length > 0 && msg.length % 16 === 0;
  msg.copy(last, 0, (n - 1) * 16);
  if (!complete) last[msg.length - (n - 1) * 16] = 0x80;
  for (let i = 0; i < 16; i++) last[i]! ^= (complete ? k1 : k2)[i]!;
  let x: Buffer = Buffer.alloc(16);
  for (let b = 0; b < n; b++) {
    const block = b === n - 1 ? last : msg.subarray(b * 16, b * 16 + 16);
    x = aesBlock(key, Buffer.from(x.map((v, i) => v ^ block[i]!)));
  }
  return x;
}

/** KDF-A: CMAC(K, D ‖ C ‖ ID ‖ 07×7). */
const kdfA = (d: number) => cmac(KEY, Buffer.concat([Buffer.from([d]), MCR, ID, Buffer.alloc(7, 0x07)]));

function cbcZeroIv(key: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** DLL + AFL (MCL, [KI], MCR, MAC) + TPL 7A mode 7 (2 blocks, CFE) + ciphertext. */
function telegram(opts: { c?: number; cfe: number; ki?: number; kenc: Buffer; kmac: Buffer; badMac?: boolean }): string {
  const tpl = Buffer.concat([Buffer.from([0x7a, 0x2a, 0x00, 0x20, 0x07, opts.cfe]), cbcZeroIv(opts.kenc, PLAIN)]);
  const ki = opts.ki === undefined ? Buffer.alloc(0) : Buffer.from([opts.ki & 0xff, opts.ki >> 8]);
  const mcl = 0x25 | (opts.ki === undefined ? 0 : 0x10);
  const mac = cmac(opts.kmac, Buffer.concat([Buffer.from([mcl]), ki, MCR, tpl])).subarray(0, 8);
  if (opts.badMac) mac[0]! ^= 1;
  const fcl = 0x2c00 | (opts.ki === undefined ? 0 : 0x0200);
  const aflFields = Buffer.concat([Buffer.from([fcl & 0xff, fcl >> 8, mcl]), ki, MCR, mac]);
  const body = Buffer.concat([Buffer.from([opts.c ?? 0x44, 0x93, 0x15]), ID, Buffer.from([0x33, 0x03, 0x90, aflFields.length]), aflFields, tpl]);
  return Buffer.concat([Buffer.from([body.length]), body]).toString('hex');
}

const volume = (hex: string, key = KEY) => decode(hex, { key }).Body.DataRecords.find((r) => r.VifQuantity === 'Volume')?.ValueScaled;

describe('security mode 7: every KDF selection', () => {
  it('KDF-A (CFE 01): Kenc/Kmac derived with D = 00/01, MAC checked', () => {
    const hex = telegram({ cfe: 0x10, kenc: kdfA(0x00), kmac: kdfA(0x01) });
    const r = decode(hex, { key: KEY });
    expect(r.Afl?.MacValid).toBe(true);
    expect(r.Authenticated).toBe(true);
    expect(volume(hex)).toBe(28504.27);
  });

  it('the AFL key information overrides the CFE: KI says KDF-A while the CFE says persistent key', () => {
    const hex = telegram({ cfe: 0x00, ki: 0x0010, kenc: kdfA(0x00), kmac: kdfA(0x01) });
    expect(decode(hex, { key: KEY }).Afl?.MacValid).toBe(true);
    expect(volume(hex)).toBe(28504.27);
  });

  it('persistent key (KDF 00): K itself decrypts (IV 0) and authenticates; a bad MAC is wrong_key', () => {
    const hex = telegram({ cfe: 0x00, kenc: KEY, kmac: KEY });
    const r = decode(hex, { key: KEY });
    expect(r.Afl?.MacValid).toBe(true);
    expect(r.Authenticated).toBe(true);
    expect(volume(hex)).toBe(28504.27);
    const bad = decode(telegram({ cfe: 0x00, kenc: KEY, kmac: KEY, badMac: true }), { key: KEY });
    expect(bad.Afl?.MacValid).toBe(false);
    expect(keyDiagnosis(bad, true)?.problem).toBe('wrong_key');
  });

  it('KDF-A on a message to the meter (SND_UD) uses the derivation constants 10/11', () => {
    const hex = telegram({ c: 0x53, cfe: 0x10, kenc: kdfA(0x10), kmac: kdfA(0x11) });
    expect(decode(hex, { key: KEY }).Afl?.MacValid).toBe(true);
    expect(volume(hex)).toBe(28504.27);
  });

  it('a reserved KDF selection (10, 11) is unsupported_mode, not wrong_key', () => {
    for (const cfe of [0x20, 0x30]) {
      const r = decode(telegram({ cfe, kenc: KEY, kmac: KEY }), { key: KEY });
      expect(r.Authenticated).toBe(false);
      expect(keyDiagnosis(r, true)).toEqual({ problem: 'unsupported_mode', detail: expect.stringContaining(`reserved KDF selection ${cfe >> 4}`) });
    }
  });
});
