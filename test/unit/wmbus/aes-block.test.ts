import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cbcDecrypt, ctrCrypt, encryptInPlace, newKeyContext } from '../../../src/wmbus/aes.js';
import { decryptBlock, encryptBlock, expandDecryptKey, expandEncryptKey } from '../../../src/wmbus/aes-block.js';
import { cmac } from '../../../src/wmbus/cmac.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

describe('AES-128 block functions', () => {
  it('FIPS-197 appendix C.1 example', () => {
    const rk = expandEncryptKey(hex('000102030405060708090a0b0c0d0e0f'));
    const out = new Uint8Array(16);
    encryptBlock(rk, hex('00112233445566778899aabbccddeeff'), 0, out, 0);
    expect(Buffer.from(out).toString('hex')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    const back = new Uint8Array(16);
    decryptBlock(expandDecryptKey(rk), out, 0, back, 0);
    expect(Buffer.from(back).toString('hex')).toBe('00112233445566778899aabbccddeeff');
  });

  it('matches node:crypto ECB on 500 random keys and blocks, both directions', () => {
    for (let n = 0; n < 500; n++) {
      const key = randomBytes(16);
      const block = randomBytes(16);
      const want = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(block);
      const rk = expandEncryptKey(key);
      const got = new Uint8Array(16);
      encryptBlock(rk, block, 0, got, 0);
      expect(Buffer.from(got).equals(want)).toBe(true);
      const plain = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(block);
      decryptBlock(expandDecryptKey(rk), block, 0, got, 0);
      expect(Buffer.from(got).equals(plain)).toBe(true);
    }
  });

  it('CBC decryption, CTR and in-place block encryption match node:crypto on multi-block data', () => {
    for (let n = 0; n < 50; n++) {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const data = randomBytes(16 * (1 + (n % 6)));
      const ctx = newKeyContext(key);
      const cbc = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false).update(data);
      expect(Buffer.from(cbcDecrypt(ctx, iv, data)).equals(cbc)).toBe(true);
      const odd = data.subarray(0, data.length - (n % 16));
      const ctr = createCipheriv('aes-128-ctr', key, iv).update(odd);
      expect(Buffer.from(ctrCrypt(ctx, iv, odd)).equals(ctr)).toBe(true);
      const block = Uint8Array.from(data.subarray(0, 16));
      encryptInPlace(ctx, block);
      const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(data.subarray(0, 16));
      expect(Buffer.from(block).equals(ecb)).toBe(true);
    }
  });

  it('CMAC: RFC 4493 examples 1-4', () => {
    const ctx = newKeyContext(hex('2b7e151628aed2a6abf7158809cf4f3c'));
    const msg = hex(
      '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
    );
    const mac = (len: number) => Buffer.from(cmac(ctx, msg.subarray(0, len))).toString('hex');
    expect(mac(0)).toBe('bb1d6929e95937287fa37d129b756746');
    expect(mac(16)).toBe('070a16b46b4d4144f79bdd9dd04a287c');
    expect(mac(40)).toBe('dfa66747de9ae63030ca32611497c827');
    expect(mac(64)).toBe('51f0bebf7e3b9d92fc49741779363cfe');
  });
});
