import { BridgeError } from '../lib/errors.js';
/**
 * Keyset paging cursors. Opaque to callers: base64url of a JSON array with the
 * sort key of the last item returned. Keyset rather than OFFSET so that a walk
 * over all pages neither skips nor repeats rows while new rows arrive.
 */
export function encodeCursor(values) {
    return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}
/** Decodes a cursor made by {@link encodeCursor}; throws `invalid_cursor` when it does not match `shape`. */
export function decodeCursor(cursor, shape) {
    let parsed;
    try {
        parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    }
    catch {
        parsed = undefined;
    }
    const ok = Array.isArray(parsed)
        && parsed.length === shape.length
        && parsed.every((v, i) => (shape[i] === 'number' ? Number.isSafeInteger(v) : typeof v === 'string'));
    if (!ok)
        throw new BridgeError('invalid_cursor', 'the paging cursor is not valid; start again without a cursor');
    return parsed;
}
/** Page size used for a query: at least 1, and one more row is fetched to know whether a next page exists. */
export function pageLimit(limit) {
    return Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1));
}
/** Cuts the extra row fetched by `LIMIT pageLimit + 1` and builds the next cursor from the last kept item. */
export function toPage(rows, limit, map, key) {
    const n = pageLimit(limit);
    const kept = rows.slice(0, n);
    const last = kept[kept.length - 1];
    return {
        items: kept.map(map),
        nextCursor: rows.length > n && last !== undefined ? encodeCursor(key(last)) : null,
    };
}
