import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { bindRoles } from '../bind-roles.js';
import type { RoleMethods, StoreRoles } from '../roles.js';
import type { TelegramStore } from '../store.js';
import { SqliteAuditLog } from './audit-log.js';
import { Checkpointer, WAL_RESTART_FRAMES } from './checkpointer.js';
import { DedupIndex } from './dedup-index.js';
import { SqliteGatewayRegistry } from './gateway-registry.js';
import { GroupCommit } from './group-commit.js';
import { SqliteHousekeeping } from './housekeeping.js';
import { SqliteJobQueue } from './job-queue.js';
import { SqliteKeyProblems } from './key-problems.js';
import { SqliteMappings } from './mappings.js';
import { SqliteMeterKeys } from './meter-keys.js';
import { SqliteMeterRegistry } from './meter-registry.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteParserState } from './parser-state.js';
import { ProcessLock } from './process-lock.js';
import { SqliteSettings } from './settings.js';
import { SqliteConnection } from './sqlite-connection.js';
import { SqliteTelegramIntake } from './telegram-intake.js';
import { SqliteTelegramQueries } from './telegram-queries.js';

/** `sqlite:///./data/bridge.db` → `./data/bridge.db`; `sqlite:///:memory:` → `:memory:`. */
export function sqlitePath(url: string): string {
  return url.replace(/^sqlite:\/\/\/?/, '');
}

export interface SqliteStoreOptions {
  /**
   * - `owner` (default): the only connection of the process: takes the process lock, migrates,
   *   recovers leases of a dead process and runs the checkpointer.
   * - `writer`: the same without the process lock, which the thread that started it holds.
   * - `reader`: a WAL reader next to a writer in another thread; never writes.
   */
  mode?: 'owner' | 'writer' | 'reader';
  /** Requeue leases left by a dead process at start (default true; false when a writer thread is restarted under a live pipeline). */
  recover?: boolean;
  /** SQLITE_MAX_SIZE_MB: writes beyond it fail as storage_full, as on a full disk. */
  maxSizeMb?: number | undefined;
  /** WAL frames beyond which the checkpointer starts the WAL over (WAL_RESTART_FRAMES; smaller in tests). */
  walRestartFrames?: number;
}

/**
 * Single-process store on better-sqlite3. Synchronous calls are fine here: each
 * statement is tens of microseconds, and a round trip through a thread pool
 * would cost more than it saves. WAL + synchronous=NORMAL keeps every committed
 * transaction across a process crash (kill -9); only an OS crash or power loss
 * can lose the last transactions (documented in the README).
 *
 * This class opens and closes the database; every other method is a role object's (one file per
 * role in this folder), bound onto the store by bindRoles.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface's methods are bound in the constructor (bindRoles)
export class SqliteStore implements TelegramStore {
  private readonly conn = new SqliteConnection();
  /** The dedup window (writer modes); see dedup-index.ts. */
  private readonly dedup = new DedupIndex();
  /** Intake, job queue, outbox and meter liveness writes share its transactions. */
  private readonly group = new GroupCommit(() => this.conn.current, 128, this.dedup);
  private lock: ProcessLock | undefined;
  private checkpointer: Checkpointer | undefined;
  /** Called with errors of the background checkpointer (the composition root logs them). */
  onBackgroundError: ((message: string) => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: SqliteStoreOptions = {},
  ) {
    const { conn, group, dedup } = this;
    const roles: StoreRoles = {
      intake: new SqliteTelegramIntake(conn, group, dedup),
      jobQueue: new SqliteJobQueue(conn, group),
      outbox: new SqliteOutbox(conn, group),
      meterKeys: new SqliteMeterKeys(conn),
      keyProblems: new SqliteKeyProblems(conn),
      mappings: new SqliteMappings(conn),
      telegramQueries: new SqliteTelegramQueries(conn),
      auditLog: new SqliteAuditLog(conn),
      settings: new SqliteSettings(conn),
      parserState: new SqliteParserState(conn),
      meterRegistry: new SqliteMeterRegistry(conn, group),
      housekeeping: new SqliteHousekeeping(conn, dedup),
      gatewayRegistry: new SqliteGatewayRegistry(conn),
    };
    bindRoles(this, roles);
  }

  async start(): Promise<void> {
    if (this.conn.current) return;
    const onDisk = this.path !== ':memory:';
    const mode = this.opts.mode ?? 'owner';
    const primary = mode !== 'reader';
    if (onDisk && mode === 'owner') {
      mkdirSync(dirname(this.path), { recursive: true });
      this.lock = new ProcessLock(this.path);
      this.lock.acquire();
    }
    const db = new Database(this.path, { timeout: 1_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Checkpoints run in a background thread (Checkpointer), never on the event loop.
    db.pragma(`wal_autocheckpoint = ${onDisk ? 0 : 1000}`);
    db.pragma('cache_size = -32000');
    // When the WAL starts over (Checkpointer), its file is cut back to this size instead of keeping its peak.
    db.pragma(`journal_size_limit = ${this.walRestartFrames * 4096}`);
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = ON');
    if (this.opts.maxSizeMb !== undefined && primary) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor((this.opts.maxSizeMb * 1024 * 1024) / pageSize))}`);
    }
    this.conn.open(db, primary ? migrate : undefined);
    if (!primary) return;
    if (this.opts.recover !== false) {
      // A previous process that died left claimed jobs and outbox rows behind; this
      // process holds the lock, and its pipeline has not started yet, so none of them is being worked on.
      db.prepare("UPDATE telegrams SET status = 'queued', locked_by = NULL, locked_until = NULL WHERE status = 'processing'").run();
      db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE locked_until > 0').run();
    }
    if (onDisk) {
      this.checkpointer = new Checkpointer(this.path, 250, (message) => this.onBackgroundError?.(message), this.walRestartFrames);
      this.checkpointer.start();
    }
  }

  private get walRestartFrames(): number {
    return this.opts.walRestartFrames ?? WAL_RESTART_FRAMES;
  }

  async stop(): Promise<void> {
    // Writes already submitted are committed before the database closes.
    if (this.conn.current) this.group.flushAll();
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    this.conn.close();
    this.lock?.release();
    this.lock = undefined;
  }

  async ping(): Promise<void> {
    this.conn.get().prepare('SELECT 1').get();
  }

  /** One connection that no other thread can use (ThreadedSqliteStore is the shareable form). */
  shareWithThread(): undefined {
    return undefined;
  }

  onRelink(_listener: () => void): () => void {
    return () => {};
  }
}

export interface SqliteStore extends RoleMethods<StoreRoles> {}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  for (let v = current + 1; v <= SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v - 1] as string);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
    })();
  }
}
