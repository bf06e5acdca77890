import { BridgeError } from '../lib/errors.js';
import type { Logger } from '../observability/logger.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.js';
import type { TelegramStore } from './store.js';

export interface CreateStoreOptions {
  /** Receives background errors: PostgreSQL idle-client and LISTEN connection errors, SQLite checkpoint errors. */
  log?: Logger;
  /**
   * A second connection of this process (the pipeline thread): SQLite skips the process
   * lock, migrations, crash recovery and the checkpointer, which the first connection owns.
   */
  secondary?: boolean;
}

/**
 * Picks the store implementation from DATABASE_URL: `sqlite:///<path>` (single
 * process) or `postgres://…` / `postgresql://…` (several instances; `?schema=name`
 * selects a schema, see postgresConnection()).
 */
export function createStore(databaseUrl: string, opts: CreateStoreOptions = {}): TelegramStore {
  if (databaseUrl.startsWith('sqlite:')) {
    const store = new SqliteStore(sqlitePath(databaseUrl), { secondary: opts.secondary ?? false });
    store.onBackgroundError = (message) => opts.log?.error({ err: message }, 'SQLite checkpoint failed');
    return store;
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return new PostgresStore(databaseUrl, { log: opts.log });
  throw new BridgeError('unsupported_database', 'DATABASE_URL must start with sqlite:/// or postgres://');
}
