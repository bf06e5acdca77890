import { createHash } from 'node:crypto';
/**
 * Looks gateway keys up by their SHA-256, so the comparison never runs over
 * the secret itself (no timing signal on how many leading characters match).
 */
export class GatewayAuth {
    byHash;
    constructor(keys) {
        this.byHash = new Map([...keys].map(([key, gw]) => [hash(key), gw]));
    }
    /** Gateway id the key may post for, '*' for a global key, undefined for an unknown key. */
    gatewayFor(authorization) {
        const token = bearer(authorization);
        return token === undefined ? undefined : this.byHash.get(hash(token));
    }
}
export function bearer(authorization) {
    if (!authorization)
        return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m?.[1];
}
function hash(s) {
    return createHash('sha256').update(s).digest('base64');
}
