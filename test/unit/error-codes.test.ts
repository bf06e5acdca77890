import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/http/http-error.js';
import { toHttpError } from '../../src/http/server.js';
import { HTTP_STATUS, storeCodeOf, toErrorCode } from '../../src/lib/error-codes.js';
import { BridgeError } from '../../src/lib/errors.js';
import { ROOT } from '../helpers/process.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes: closed unions, one code→HTTP status table (issue 10)', () => {
  it('every code has a status, and the status of an HttpError comes from the table', () => {
    for (const [code, status] of Object.entries(HTTP_STATUS)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(new HttpError(code as keyof typeof HTTP_STATUS, 'm').statusCode).toBe(status);
    }
    expect(HTTP_STATUS.storage_full).toBe(503);
    expect(HTTP_STATUS.sync_disabled).toBe(403);
    expect(HTTP_STATUS.login_throttled).toBe(429);
  });

  it('a BridgeError answers with its own code and status; a 5xx never carries internal text', () => {
    expect(toHttpError(new BridgeError('invalid_cursor', 'bad cursor')).body.error).toEqual({ code: 'invalid_cursor', message: 'bad cursor' });
    const busy = toHttpError(new BridgeError('store_busy', 'SQLITE_BUSY: database is locked at /var/lib/x.db', { retryable: true }));
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(JSON.stringify(busy.body)).not.toContain('/var/lib');
    const failed = toHttpError(new BridgeError('store_failed', 'duplicate key value violates unique constraint "x" host=db.internal'));
    expect(failed.statusCode).toBe(500);
    expect(failed.body.error).toEqual({ code: 'internal_error', message: 'internal error' });
    expect(toHttpError(new TypeError('x is undefined')).body.error.code).toBe('internal_error');
  });

  it('maps codes received as text to known codes only', () => {
    expect(toErrorCode('store_closed', 'store_failed')).toBe('store_closed');
    expect(toErrorCode('SQLITE_CORRUPT', 'store_failed')).toBe('store_failed');
    expect(toErrorCode('toString', 'store_failed')).toBe('store_failed');
    expect(storeCodeOf('SQLITE_FULL')).toBe('storage_full');
    expect(storeCodeOf('SQLITE_BUSY_SNAPSHOT')).toBe('store_busy');
    expect(storeCodeOf('53100')).toBe('storage_full');
    expect(storeCodeOf('dedup_conflict')).toBe('dedup_conflict');
    expect(storeCodeOf(undefined)).toBe('store_failed');
  });

  it('no source file builds an HttpError from a bare status number', () => {
    const offenders = sources(join(ROOT, 'src')).filter((f) => /new HttpError\(\s*\d/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('MeterKeyService is the only writer of meter keys (issue 10)', () => {
  it('no file but the service calls putMeterKey or vault.seal', () => {
    const allowed = new Set(['src/security/meter-key-service.ts', 'src/security/key-vault.ts']);
    const callers = sources(join(ROOT, 'src'))
      .map((f) => relative(ROOT, f))
      .filter((f) => !allowed.has(f) && !f.startsWith('src/store/'))
      .filter((f) => /\.putMeterKey\(|\bvault\.seal\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(callers).toEqual([]);
  });
});
