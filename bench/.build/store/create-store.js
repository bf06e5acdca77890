import { BridgeError } from '../lib/errors.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.js';
/**
 * Picks the store implementation from DATABASE_URL: `sqlite:///<path>` (single
 * process) or `postgres://…` / `postgresql://…` (several instances; `?schema=name`
 * selects a schema, see postgresConnection()).
 */
export function createStore(databaseUrl, opts = {}) {
    if (databaseUrl.startsWith('sqlite:'))
        return new SqliteStore(sqlitePath(databaseUrl));
    if (/^postgres(ql)?:\/\//.test(databaseUrl))
        return new PostgresStore(databaseUrl, { log: opts.log });
    throw new BridgeError('unsupported_database', 'DATABASE_URL must start with sqlite:/// or postgres://');
}
