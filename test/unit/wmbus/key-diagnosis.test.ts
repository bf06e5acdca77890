import { describe, expect, it } from 'vitest';
import { decodeWithDrivers, DriverRegistry } from '../../../src/drivers/index.js';
import { LocalParser } from '../../../src/parser/local/local-parser.js';
import { ParseError } from '../../../src/parser/parser.js';

// OMS Vol.2 Annex N: mode 5, key 0102…0F11 (2 blocks announced).
const MODE5 = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
const KEY = '0102030405060708090A0B0C0D0E0F11';
const WRONG = '0102030405060708090A0B0C0D0E0F12';
// OMS security profile B: ELL + AFL (CMAC) + mode 7.
const MODE7 = '434493157856341233038c2075900f002c25b30a000021924d4f2fb66e017a75002007109058475f4bc91df878b80a1b0f98b629024aac727942bfc549233c0140829b93';
const KEY7 = '000102030405060708090A0B0C0D0E0F';

const none = new DriverRegistry();
const diag = (hex: string, key: string | null) => decodeWithDrivers(hex, { key }, none).KeyDiagnosis;

describe('key diagnosis', () => {
  it('says nothing when the telegram decrypts', () => {
    expect(diag(MODE5, KEY)).toBeUndefined();
    expect(diag(MODE7, KEY7)).toBeUndefined();
  });

  it('key_missing without a key, wrong_key with a wrong one (2F2F check and AFL MAC)', () => {
    expect(diag(MODE5, null)?.problem).toBe('key_missing');
    expect(diag(MODE5, WRONG)).toEqual({ problem: 'wrong_key', detail: expect.stringContaining('2F2F') });
    expect(diag(MODE7, WRONG)?.problem).toBe('wrong_key');
  });

  it('truncated when the payload is shorter than the blocks the header announces', () => {
    // Whole blocks that are present still decrypt (as wmbusmeters does); with less than one block left
    // nothing can, and the reason is the length, not the key.
    const cut = `18${MODE5.slice(2, MODE5.length - 44)}`;
    const d = diag(cut, KEY);
    expect(d?.problem).toBe('truncated');
    expect(d?.detail).toMatch(/10 bytes, the header announces 2 blocks/);
  });

  it('unsupported_mode for a security mode the decoder does not implement', () => {
    // Mode 5 example with the CW changed to mode 13 (0x0D << 8).
    const m13 = `${MODE5.slice(0, 26)}200d${MODE5.slice(30)}`;
    expect(diag(m13, KEY)?.problem).toBe('unsupported_mode');
  });

  it('the local parser puts the reason first in the message and keeps the stable codes; no key text appears', async () => {
    const p = new LocalParser();
    const req = { ingestId: 'x', rawHex: MODE5, header: null, mappings: { mappings: [] }, finalAttempt: true };
    const wrong = await p.parse({ ...req, keyHex: WRONG }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ParseError);
    expect(wrong).toMatchObject({ code: 'decrypt_failed', message: expect.stringMatching(/^wrong_key: /) });
    expect((wrong as Error).message).not.toContain(WRONG.slice(0, 8));
    expect(wrong).toMatchObject({ keyProblem: { problem: 'wrong_key' } });
    const missing = await p.parse({ ...req, keyHex: null }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'decrypt_key_missing', message: expect.stringMatching(/^key_missing: /), keyProblem: { problem: 'key_missing' } });
    // A mode the decoder cannot decrypt is an error too, not an empty reading.
    const m13 = `${MODE5.slice(0, 26)}200d${MODE5.slice(30)}`;
    const unsupported = await p.parse({ ...req, rawHex: m13, keyHex: KEY }).catch((e: unknown) => e);
    expect(unsupported).toMatchObject({ code: 'decrypt_failed', message: expect.stringMatching(/^unsupported_mode: /), keyProblem: { problem: 'unsupported_mode' } });
  });
});
