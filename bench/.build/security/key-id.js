import { createHash } from 'node:crypto';
/** Uppercase hex SHA-256 of the 16 raw key bytes — identical to Lobaro's KeyIdentifier; never the key. */
export function keyId(keyHex) {
    return createHash('sha256').update(Buffer.from(keyHex, 'hex')).digest('hex').toUpperCase();
}
