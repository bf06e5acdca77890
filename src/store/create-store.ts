import { BridgeError } from '../lib/errors.js';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.js';
import type { TelegramStore } from './store.js';

/** Picks the store implementation from DATABASE_URL. */
export function createStore(databaseUrl: string): TelegramStore {
  if (databaseUrl.startsWith('sqlite:')) return new SqliteStore(sqlitePath(databaseUrl));
  throw new BridgeError('unsupported_database', 'PostgreSQL support is not built yet; use DATABASE_URL=sqlite:///<path>');
}
