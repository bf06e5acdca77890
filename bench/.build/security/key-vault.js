import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { BridgeError } from '../lib/errors.js';
const PREFIX = 'enc:v1:';
const CHECK_PLAINTEXT = 'oms-bridge key check';
/** Settings rows the vault keeps in the database. */
export const VAULT_SALT_SETTING = 'key_vault_salt';
export const VAULT_CHECK_SETTING = 'key_vault_check';
/**
 * Seals AES meter keys before they reach the database and opens them when a
 * job needs one. With KEY_ENCRYPTION_SECRET: AES-256-GCM, key from scrypt
 * (N=2^15) over the secret and a per-database salt, a random 96-bit nonce per
 * value. Without a secret values pass through unchanged (dev default).
 */
export class KeyVault {
    key = null;
    unlocked = false;
    /** A vault that stores keys as they are (no KEY_ENCRYPTION_SECRET). */
    static plain() {
        const v = new KeyVault();
        v.unlocked = true;
        return v;
    }
    /** Derives the vault key once (≈50 ms, at boot only). */
    static fromSecret(secret, salt) {
        const v = new KeyVault();
        v.key = scryptSync(secret, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
        v.unlocked = true;
        return v;
    }
    /** Takes over the state of a vault opened by openVault(), so parts built before start() share it. */
    adopt(other) {
        this.key = other.key;
        this.unlocked = other.unlocked;
    }
    get encrypting() {
        return this.key !== null;
    }
    seal(plain) {
        // Never write a key before the vault knows whether it must encrypt.
        if (!this.unlocked)
            throw new BridgeError('key_vault_locked', 'key vault is not open yet');
        if (!this.key)
            return plain;
        const nonce = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
        const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
        return `${PREFIX}${nonce.toString('base64')}:${ct.toString('base64')}:${cipher.getAuthTag().toString('base64')}`;
    }
    /** Throws BridgeError `key_vault_mismatch` when a sealed value cannot be opened with this secret. */
    open(stored) {
        if (!stored.startsWith(PREFIX))
            return stored;
        if (!this.key)
            throw new BridgeError('key_vault_locked', 'a stored key is encrypted but KEY_ENCRYPTION_SECRET is not set');
        const [nonce, ct, tag] = stored.slice(PREFIX.length).split(':');
        try {
            const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce ?? '', 'base64'));
            decipher.setAuthTag(Buffer.from(tag ?? '', 'base64'));
            return Buffer.concat([decipher.update(Buffer.from(ct ?? '', 'base64')), decipher.final()]).toString('utf8');
        }
        catch (err) {
            throw new BridgeError('key_vault_mismatch', 'a stored key does not open with KEY_ENCRYPTION_SECRET', { cause: err });
        }
    }
    static isSealed(stored) {
        return stored.startsWith(PREFIX);
    }
    checkValue() {
        return this.seal(CHECK_PLAINTEXT);
    }
    /** True when `check` was sealed with the same secret. */
    verify(check) {
        try {
            return this.open(check) === CHECK_PLAINTEXT;
        }
        catch {
            return false;
        }
    }
}
/**
 * Opens the vault for this database at boot. A database once written with a
 * secret refuses to start without it or with another one: a clear startup
 * error instead of silently unusable keys.
 */
export async function openVault(store, secret) {
    const check = await store.getSetting(VAULT_CHECK_SETTING);
    if (!secret) {
        if (check)
            throw new BridgeError('key_vault_locked', 'this database holds encrypted keys: set KEY_ENCRYPTION_SECRET to the secret it was written with');
        return KeyVault.plain();
    }
    let saltText = await store.getSetting(VAULT_SALT_SETTING);
    if (!saltText) {
        saltText = randomBytes(16).toString('base64');
        await store.putSetting(VAULT_SALT_SETTING, saltText);
    }
    const vault = KeyVault.fromSecret(secret, Buffer.from(saltText, 'base64'));
    if (check) {
        if (!vault.verify(check))
            throw new BridgeError('key_vault_mismatch', 'KEY_ENCRYPTION_SECRET does not match the secret this database was written with');
    }
    else {
        await store.putSetting(VAULT_CHECK_SETTING, vault.checkValue());
    }
    return vault;
}
