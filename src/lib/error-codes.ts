import type { ParseErrorCode } from '../parser/parser.js';

/** Answers of the HTTP API that no other stage produces. */
export type HttpCode =
  | 'validation_failed' | 'invalid_json' | 'invalid_content_length' | 'bad_request'
  | 'unauthorized' | 'forbidden' | 'sync_disabled' | 'not_found'
  | 'body_too_large' | 'unsupported_media_type'
  | 'rate_limited' | 'login_throttled' | 'backpressure'
  | 'internal_error';

/** Durable store (SQLite, PostgreSQL, the SQLite writer thread). */
export type StoreCode =
  | 'store_closed' | 'store_unavailable' | 'store_busy' | 'storage_full' | 'store_failed' | 'store_not_owner'
  | 'store_start_failed' | 'migration_failed' | 'dedup_conflict' | 'unsupported_database'
  | 'invalid_database_url' | 'invalid_cursor' | 'database_locked';

/** Key vault (KEY_ENCRYPTION_SECRET). */
export type VaultCode = 'key_vault_locked' | 'key_vault_mismatch';

/** Boot and thread lifecycle. */
export type LifecycleCode = 'pipeline_start_failed' | 'embedded_broker_port_in_use' | 'driver_invalid';

/** Every code a BridgeError can carry: a closed union, so a typo or a new code does not compile until it is in HTTP_STATUS. */
export type ErrorCode = HttpCode | StoreCode | VaultCode | LifecycleCode | ParseErrorCode;

/**
 * The one table from code to HTTP status. Parse codes never answer a request
 * themselves (they travel on MQTT); their row says what they would mean if one did.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  validation_failed: 400, invalid_json: 400, invalid_content_length: 400, bad_request: 400, invalid_cursor: 400,
  unauthorized: 401,
  forbidden: 403, sync_disabled: 403,
  not_found: 404,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429, login_throttled: 429,
  internal_error: 500, store_closed: 500, store_failed: 500, store_not_owner: 500, store_start_failed: 500,
  migration_failed: 500, unsupported_database: 500, invalid_database_url: 500, database_locked: 500,
  key_vault_locked: 500, key_vault_mismatch: 500, pipeline_start_failed: 500, embedded_broker_port_in_use: 500, driver_invalid: 500,
  backpressure: 503, storage_full: 503, store_unavailable: 503, store_busy: 503, dedup_conflict: 503,
  decrypt_key_missing: 422, decrypt_failed: 422, parse_failed: 422, lobaro_bad_request: 422,
  lobaro_auth: 502, lobaro_rate_limited: 503, lobaro_timeout: 504, lobaro_unavailable: 503, claim_limit: 500,
});

/** A code received as text (from another thread, a driver): known codes pass, anything else is `fallback`. */
export function toErrorCode(text: unknown, fallback: ErrorCode): ErrorCode {
  return typeof text === 'string' && Object.hasOwn(HTTP_STATUS, text) ? (text as ErrorCode) : fallback;
}

/** Store codes for driver error codes (SQLITE_*, PostgreSQL SQLSTATE) that callers act on. */
export function storeCodeOf(driverCode: unknown): StoreCode {
  if (typeof driverCode !== 'string') return 'store_failed';
  if (driverCode.startsWith('SQLITE_FULL') || driverCode === '53100') return 'storage_full';
  if (/^SQLITE_(BUSY|LOCKED)/.test(driverCode)) return 'store_busy';
  return isStoreCode(driverCode) ? driverCode : 'store_failed';
}

const STORE_CODES: ReadonlySet<string> = new Set<StoreCode>([
  'store_closed', 'store_unavailable', 'store_busy', 'storage_full', 'store_failed', 'store_not_owner', 'store_start_failed',
  'migration_failed', 'dedup_conflict', 'unsupported_database', 'invalid_database_url', 'invalid_cursor', 'database_locked',
]);

function isStoreCode(code: string): code is StoreCode {
  return STORE_CODES.has(code);
}
