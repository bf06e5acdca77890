import type pg from 'pg';
import type { Settings } from '../roles.js';
import { rows } from './pg-query.js';

export class PostgresSettings implements Settings {
  constructor(private readonly pool: () => pg.Pool) {}

  async getSetting(name: string): Promise<string | undefined> {
    const [row] = await rows(this.pool(), 'SELECT value FROM settings WHERE name = $1', [name]);
    return row ? (row.value as string) : undefined;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.pool().query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      [name, value]);
  }
}
