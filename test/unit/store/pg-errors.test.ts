import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgStoreError } from '../../../src/store/postgres/pg-errors.js';
import { PostgresTelegramIntake } from '../../../src/store/postgres/telegram-intake.js';
import { rawMessage, telegram } from '../../contract/store-fixtures.js';

describe('PostgreSQL errors at the request path', () => {
  it('a server that is not there is the retryable store_unavailable (503 at the API), not a 500', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'x', database: 'x', connectionTimeoutMillis: 2_000 });
    try {
      const intake = new PostgresTelegramIntake(() => pool, 'token');
      const t = telegram({ dedupHash: 'pg-down' });
      await expect(intake.insertTelegram(t, rawMessage(t), 60_000)).rejects.toMatchObject({ code: 'store_unavailable', retryable: true });
      await expect(intake.insertTelegrams([{ telegram: t, raw: rawMessage(t), clientId: null }], 60_000, 86_400_000))
        .rejects.toMatchObject({ code: 'store_unavailable', retryable: true });
    } finally {
      await pool.end();
    }
  });

  it('maps SQLSTATE classes: disk full, connection, shutdown, deadlock; leaves the rest', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(pgStoreError(e('53100'))).toMatchObject({ code: 'storage_full', retryable: true });
    for (const code of ['08006', '57P01', '40P01', '53300']) expect(pgStoreError(e(code))).toMatchObject({ code: 'store_unavailable', retryable: true });
    const other = e('23505');
    expect(pgStoreError(other)).toBe(other);
  });
});
