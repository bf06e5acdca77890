import Database from 'better-sqlite3';
import { BridgeError } from '../../lib/errors.js';

/**
 * Holds `<db>.lock` (a tiny SQLite file in exclusive locking mode) for the
 * life of the process: a second process on the same database fails fast
 * instead of two dispatchers claiming the same jobs. The OS drops the lock
 * when the process dies, even by kill -9. The database itself stays in normal
 * locking so a background thread can checkpoint it.
 */
export class ProcessLock {
  private lock: Database.Database | undefined;

  constructor(private readonly dbPath: string) {}

  acquire(): void {
    const lock = new Database(`${this.dbPath}.lock`, { timeout: 0 });
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec('BEGIN IMMEDIATE; COMMIT;');
    } catch (err) {
      lock.close();
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new BridgeError(
          'database_locked',
          `SQLite database ${this.dbPath} is in use by another process. SQLite is single-process; to run several instances use DATABASE_URL=postgres://…`,
        );
      }
      throw err;
    }
    this.lock = lock;
  }

  release(): void {
    this.lock?.close();
    this.lock = undefined;
  }
}
