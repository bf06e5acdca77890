import type Database from 'better-sqlite3';
import { BridgeError } from '../../lib/errors.js';

/**
 * The open database of a SqliteStore, shared by its role objects. The roles exist from the store's
 * construction (their methods are bound onto it), the connection only between start and stop:
 * each role registers how to prepare its statements, and every open prepares them all at once.
 */
export class SqliteConnection {
  private db: Database.Database | undefined;
  private readonly onOpen: Array<(db: Database.Database | undefined) => void> = [];

  /** The open database, undefined while the store is stopped. */
  get current(): Database.Database | undefined {
    return this.db;
  }

  /** The open database; store_closed while the store is stopped. */
  get(): Database.Database {
    if (!this.db) throw closed();
    return this.db;
  }

  /** Registers a role's statements; the returned function gives them (store_closed while stopped). */
  statements<T>(prepare: (db: Database.Database) => T): () => T {
    let prepared: T | undefined;
    this.onOpen.push((db) => {
      prepared = db === undefined ? undefined : prepare(db);
    });
    return () => {
      if (prepared === undefined) throw closed();
      return prepared;
    };
  }

  /** Takes `db`, runs `setup` on it (migrations), then prepares every role's statements. */
  open(db: Database.Database, setup?: (db: Database.Database) => void): void {
    this.db = db;
    setup?.(db);
    for (const f of this.onOpen) f(db);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    for (const f of this.onOpen) f(undefined);
  }
}

function closed(): BridgeError {
  return new BridgeError('store_closed', 'store is not started');
}
