import { BridgeError } from '../lib/errors.js';
import type { Logger } from '../observability/logger.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';
import type { StoreLink, TelegramStore } from './store.js';

export interface CreateStoreOptions {
  /** Receives background errors: PostgreSQL idle-client and LISTEN connection errors, SQLite checkpoint and writer errors. */
  log?: Logger;
  /** In another thread of this process: the link the first thread's store shared (shareWithThread()). */
  link?: StoreLink;
  /** SQLITE_MAX_SIZE_MB. */
  sqliteMaxSizeMb?: number | undefined;
}

/**
 * Picks the store implementation from DATABASE_URL: `sqlite:///<path>` (single
 * process; a file database gets a writer thread, `:memory:` stays one connection)
 * or `postgres://…` / `postgresql://…` (several instances; `?schema=name`
 * selects a schema, see postgresConnection()).
 */
export function createStore(databaseUrl: string, opts: CreateStoreOptions = {}): TelegramStore {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = sqlitePath(databaseUrl);
    const onError = (message: string): void => opts.log?.error({ err: message }, 'SQLite background work failed');
    if (path === ':memory:') {
      const store = new SqliteStore(path, { maxSizeMb: opts.sqliteMaxSizeMb });
      store.onBackgroundError = onError;
      return store;
    }
    return new ThreadedSqliteStore(path, { onError, link: opts.link, maxSizeMb: opts.sqliteMaxSizeMb });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return new PostgresStore(databaseUrl, { log: opts.log });
  throw new BridgeError('unsupported_database', 'DATABASE_URL must start with sqlite:/// or postgres://');
}
