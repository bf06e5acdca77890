import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../http-error.js';

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size, 1–1000 (default 100).' })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'next_cursor of the previous page.' })),
});
export type PageQuery = Static<typeof PageQuery>;

export function pageOf<T>(items: T[], nextCursor: string | null) {
  return { items, next_cursor: nextCursor };
}

export const PagedBody = (item: ReturnType<typeof Type.Object>) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

export const MeterId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Meter id as printed on the meter, e.g. 12345678.' });
export const KeyHex = Type.String({ pattern: '^[0-9A-Fa-f]{32}$', description: 'AES-128 key, 32 hex digits. Write-only.' });

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** RFC 3339 → epoch ms, or a 400 naming the field. */
export function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw new HttpError('validation_failed', 'request is invalid', { details: [{ field, problem: 'must be an RFC 3339 date-time' }] });
  }
  return ms;
}

/** Uppercase hex SHA-256 of the 16 raw key bytes: Lobaro's KeyIdentifier, safe to show. */
export { keyId } from '../../../security/key-id.js';
