const GATEWAY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Parses `gw1:key1;gw2:key2;*:globalkey`. Returns an error text instead of throwing, so config can list all problems. */
export function parseGatewayKeys(text) {
    const keys = new Map();
    const entries = text.split(';').map((e) => e.trim()).filter((e) => e !== '');
    if (entries.length === 0)
        return 'no entries; expected gw1:key1;gw2:key2';
    for (const [i, entry] of entries.entries()) {
        const colon = entry.indexOf(':');
        const gateway = entry.slice(0, colon).trim();
        const key = entry.slice(colon + 1).trim();
        if (colon <= 0 || key === '')
            return `entry ${i + 1} is not <gateway_id>:<key>`;
        if (gateway !== '*' && !GATEWAY_ID.test(gateway))
            return `entry ${i + 1}: gateway id must match [A-Za-z0-9._-]{1,64} or be *`;
        if (key.length < 8)
            return `entry ${i + 1}: key must have at least 8 characters`;
        if (keys.has(key))
            return `entry ${i + 1}: the same key is listed twice`;
        keys.set(key, gateway);
    }
    return keys;
}
