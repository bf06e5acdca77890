import { BridgeError } from '../lib/errors.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One cursor field: the sort key values of the last item of a page. */
export type CursorValue = string | number;

/**
 * Keyset paging cursors. Opaque to callers: base64url of a JSON array with the
 * sort key of the last item returned. Keyset rather than OFFSET so that a walk
 * over all pages neither skips nor repeats rows while new rows arrive.
 */
export function encodeCursor(values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; throws `invalid_cursor` when it does not match `shape`. */
export function decodeCursor<const S extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: S,
): { [K in keyof S]: S[K] extends 'number' ? number : string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok = Array.isArray(parsed)
    && parsed.length === shape.length
    // No control characters: PostgreSQL refuses NUL in a text parameter with an error, not an empty page.
    && parsed.every((v, i) => (shape[i] === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && !CONTROL.test(v)));
  if (!ok) throw new BridgeError('invalid_cursor', 'the paging cursor is not valid; start again without a cursor');
  return parsed as { [K in keyof S]: S[K] extends 'number' ? number : string };
}

/** Page size used for a query: at least 1, and one more row is fetched to know whether a next page exists. */
export function pageLimit(limit: number): number {
  return Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1));
}

/** Cuts the extra row fetched by `LIMIT pageLimit + 1` and builds the next cursor from the last kept item. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => CursorValue[]): { items: T[]; nextCursor: string | null } {
  const n = pageLimit(limit);
  const kept = rows.slice(0, n);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    nextCursor: rows.length > n && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
