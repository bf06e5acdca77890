const METER_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY = /^[0-9A-Fa-f]{32}$/;
const MANUFACTURER = /^[A-Za-z]{3}$/;
/** Rows of a CSV (`meter_id;key_hex[;manufacturer]`, no header) or JSON key import, each valid or with its problem. */
export function parseImport(body) {
    if (typeof body === 'string') {
        return body
            .split(/\r?\n/)
            .map((line, i) => ({ line: line.trim(), row: i + 1 }))
            .filter(({ line }) => line !== '')
            .map(({ line, row }) => {
            const [meterId, keyHex, manufacturer, ...rest] = line.split(';').map((c) => c.trim());
            if (rest.length > 0)
                return { row, meterId: meterId ?? null, error: 'too many columns; expected meter_id;key_hex[;manufacturer]' };
            return check(row, meterId, keyHex, manufacturer);
        });
    }
    return body.map((item, i) => {
        const get = (k) => (typeof item[k] === 'string' ? item[k] : undefined);
        return check(i + 1, get('meter_id'), get('key_hex'), get('manufacturer'));
    });
}
function check(row, meterId, keyHex, manufacturer) {
    if (!meterId || !METER_ID.test(meterId))
        return { row, meterId: meterId ?? null, error: 'meter_id must match [A-Za-z0-9._-]{1,64}' };
    if (!keyHex || !KEY.test(keyHex))
        return { row, meterId, error: 'key_hex must be exactly 32 hex digits' };
    if (manufacturer && !MANUFACTURER.test(manufacturer))
        return { row, meterId, error: 'manufacturer must be a 3-letter code' };
    return { row, meterId, keyHex: keyHex.toUpperCase(), manufacturer: manufacturer ? manufacturer.toUpperCase() : null };
}
