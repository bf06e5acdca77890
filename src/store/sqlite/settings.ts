import type Database from 'better-sqlite3';
import type { Settings } from '../roles.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    getSetting: db.prepare('SELECT value FROM settings WHERE name = ?').pluck(),
    putSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  };
}

export class SqliteSettings implements Settings {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async getSetting(name: string): Promise<string | undefined> {
    return (this.s().getSetting.get(name) as string | undefined) ?? undefined;
  }

  async putSetting(name: string, value: string): Promise<void> {
    this.s().putSetting.run(name, value);
  }
}
