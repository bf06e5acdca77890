import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { BridgeError } from '../lib/errors.js';

/** v1: no associated data (still opened). v2: the value is bound to what it belongs to (AAD), so a sealed key copied to another meter's row does not open. */
const V1 = 'enc:v1:';
const V2 = 'enc:v2:';
const CHECK_PLAINTEXT = 'oms-bridge key check';
const CHECK_AAD = 'key-vault-check';
const TAG_BYTES = 16;

/** Settings rows the vault keeps in the database. */
export const VAULT_SALT_SETTING = 'key_vault_salt';
export const VAULT_CHECK_SETTING = 'key_vault_check';

/**
 * Seals AES meter keys before they reach the database and opens them when a
 * job needs one. With KEY_ENCRYPTION_SECRET: AES-256-GCM, key from scrypt
 * (N=2^15) over the secret and a per-database salt, a random 96-bit nonce per
 * value, a 128-bit tag, and the owner (meter id, or ingest id for a key sent
 * with a telegram) as associated data. Without a secret values pass through
 * unchanged (dev default).
 */
export class KeyVault {
  private key: Buffer | null = null;
  private unlocked = false;

  /** A vault that stores keys as they are (no KEY_ENCRYPTION_SECRET). */
  static plain(): KeyVault {
    const v = new KeyVault();
    v.unlocked = true;
    return v;
  }

  /** Derives the vault key once (≈50 ms, at boot only). */
  static fromSecret(secret: string, salt: Buffer): KeyVault {
    const v = new KeyVault();
    v.key = scryptSync(secret, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    v.unlocked = true;
    return v;
  }

  /** Takes over the state of a vault opened by openVault(), so parts built before start() share it. */
  adopt(other: KeyVault): void {
    this.key = other.key;
    this.unlocked = other.unlocked;
  }

  get encrypting(): boolean {
    return this.key !== null;
  }

  /** `owner`: the meter id (stored keys) or ingest id (a key sent with a telegram) the value is bound to. */
  seal(plain: string, owner: string): string {
    // Never write a key before the vault knows whether it must encrypt.
    if (!this.unlocked) throw new BridgeError('key_vault_locked', 'key vault is not open yet');
    if (!this.key) return plain;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${V2}${nonce.toString('base64')}:${ct.toString('base64')}:${cipher.getAuthTag().toString('base64')}`;
  }

  /** Throws BridgeError `key_vault_mismatch` when a sealed value cannot be opened with this secret for this owner. */
  open(stored: string, owner: string): string {
    const version = stored.startsWith(V2) ? V2 : stored.startsWith(V1) ? V1 : null;
    if (version === null) return stored;
    if (!this.key) throw new BridgeError('key_vault_locked', 'a stored key is encrypted but KEY_ENCRYPTION_SECRET is not set');
    const [nonce, ct, tag] = stored.slice(version.length).split(':');
    try {
      const tagBytes = Buffer.from(tag ?? '', 'base64');
      // A truncated tag would let a forger try 2^32 instead of 2^128 values: only full tags open.
      if (tagBytes.length !== TAG_BYTES) throw new Error('authentication tag must be 16 bytes');
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce ?? '', 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tagBytes);
      if (version === V2) decipher.setAAD(Buffer.from(owner, 'utf8'));
      return Buffer.concat([decipher.update(Buffer.from(ct ?? '', 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new BridgeError('key_vault_mismatch', 'a stored key does not open with KEY_ENCRYPTION_SECRET for this meter', { cause: err });
    }
  }

  /** True when the value is sealed in the current format (v2); plain and v1 values are re-sealed at boot. */
  static isCurrent(stored: string): boolean {
    return stored.startsWith(V2);
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(V1) || stored.startsWith(V2);
  }

  checkValue(): string {
    return this.seal(CHECK_PLAINTEXT, CHECK_AAD);
  }

  /** True when `check` was sealed with the same secret. */
  verify(check: string): boolean {
    try {
      return this.open(check, CHECK_AAD) === CHECK_PLAINTEXT;
    } catch {
      return false;
    }
  }
}

interface SettingsStore {
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
}

/**
 * Opens the vault for this database at boot. A database once written with a
 * secret refuses to start without it or with another one: a clear startup
 * error instead of silently unusable keys.
 */
export async function openVault(store: SettingsStore, secret: string | undefined): Promise<KeyVault> {
  const check = await store.getSetting(VAULT_CHECK_SETTING);
  if (!secret) {
    if (check) throw new BridgeError('key_vault_locked', 'this database holds encrypted keys: set KEY_ENCRYPTION_SECRET to the secret it was written with');
    return KeyVault.plain();
  }
  let saltText = await store.getSetting(VAULT_SALT_SETTING);
  if (!saltText) {
    saltText = randomBytes(16).toString('base64');
    await store.putSetting(VAULT_SALT_SETTING, saltText);
  }
  const vault = KeyVault.fromSecret(secret, Buffer.from(saltText, 'base64'));
  if (check) {
    if (!vault.verify(check)) throw new BridgeError('key_vault_mismatch', 'KEY_ENCRYPTION_SECRET does not match the secret this database was written with');
  } else {
    await store.putSetting(VAULT_CHECK_SETTING, vault.checkValue());
  }
  return vault;
}
