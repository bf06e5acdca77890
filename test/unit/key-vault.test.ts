import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyVault, openVault } from '../../src/security/key-vault.js';

const SECRET = 'a-long-key-encryption-secret-for-tests';
const SALT = Buffer.alloc(16, 7);
const KEY = '0102030405060708090A0B0C0D0E0F11';

/** A value in the format of the previous release (enc:v1:, no associated data), built from the same derived key. */
function sealV1(vault: KeyVault, plain: string): string {
  const key = (vault as unknown as { key: Buffer }).key;
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `enc:v1:${nonce.toString('base64')}:${ct.toString('base64')}:${cipher.getAuthTag().toString('base64')}`;
}

describe('KeyVault (issue 10: keys bound to their meter)', () => {
  const vault = KeyVault.fromSecret(SECRET, SALT);

  it('seals in the v2 format and opens only for the same meter id', () => {
    const sealed = vault.seal(KEY, '12345678');
    expect(sealed.startsWith('enc:v2:')).toBe(true);
    expect(sealed).not.toContain(KEY);
    expect(vault.open(sealed, '12345678')).toBe(KEY);
    // Copied to another meter's row, the value does not open.
    expect(() => vault.open(sealed, '87654321')).toThrow(expect.objectContaining({ code: 'key_vault_mismatch' }));
  });

  it('still opens v1 values of the previous release, for any owner', () => {
    const v1 = sealV1(vault, KEY);
    expect(KeyVault.isSealed(v1)).toBe(true);
    expect(KeyVault.isCurrent(v1)).toBe(false);
    expect(vault.open(v1, '12345678')).toBe(KEY);
  });

  it('refuses a truncated authentication tag', () => {
    const sealed = vault.seal(KEY, 'm1');
    const [prefix, nonce, ct, tag] = [sealed.slice(0, 7), ...sealed.slice(7).split(':')];
    const short = `${prefix}${nonce}:${ct}:${Buffer.from(tag!, 'base64').subarray(0, 4).toString('base64')}`;
    expect(() => vault.open(short, 'm1')).toThrow(expect.objectContaining({ code: 'key_vault_mismatch' }));
    const v1Short = sealV1(vault, KEY).replace(/:[^:]+$/, (t) => `:${Buffer.from(t.slice(1), 'base64').subarray(0, 8).toString('base64')}`);
    expect(() => vault.open(v1Short, 'm1')).toThrow(expect.objectContaining({ code: 'key_vault_mismatch' }));
  });

  it('opens a database whose check value was written by the previous release (v1)', async () => {
    const settings = new Map<string, string>([['key_vault_salt', SALT.toString('base64')], ['key_vault_check', sealV1(vault, 'oms-bridge key check')]]);
    const store = { getSetting: async (n: string) => settings.get(n), putSetting: async (n: string, v: string) => void settings.set(n, v) };
    const opened = await openVault(store, SECRET);
    expect(opened.open(vault.seal(KEY, 'x'), 'x')).toBe(KEY);
    await expect(openVault(store, `${SECRET}-other`)).rejects.toMatchObject({ code: 'key_vault_mismatch' });
  });

  it('passes values through unchanged without a secret', () => {
    const plain = KeyVault.plain();
    expect(plain.seal(KEY, 'm')).toBe(KEY);
    expect(plain.open(KEY, 'm')).toBe(KEY);
  });
});
