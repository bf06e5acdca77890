import { BridgeError } from '../../lib/errors.js';
import type { StoreLink, TelegramStore } from '../store.js';
import { RemoteWriter } from './remote-writer.js';
import { SqliteStore } from './sqlite-store.js';
import { WriterHost } from './writer-host.js';
import { METHOD_PLACE, type StoreMethod } from './writer-protocol.js';

export interface ThreadedSqliteOptions {
  /** Background errors (checkpoints, writer restarts). */
  onError?: (message: string) => void;
  /**
   * A port to a writer started by another thread of this process (the pipeline
   * thread gets one from the HTTP thread's store). Without it, this store starts
   * and owns the writer thread.
   */
  link?: StoreLink;
  /** SQLITE_MAX_SIZE_MB, applied by the writer. */
  maxSizeMb?: number | undefined;
}

/**
 * SQLite with one writer thread: every write method goes to the thread that
 * owns the write connection, every read runs on this thread's own WAL reader.
 * No thread but the writer ever waits for SQLite's write lock, so the HTTP
 * thread's event loop is never held by a commit of the pipeline's.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface's methods are defined on the prototype below
export class ThreadedSqliteStore {
  private readonly reader: SqliteStore;
  private readonly host: WriterHost | undefined;
  private writer: RemoteWriter | undefined;
  private readonly relinkListeners = new Set<() => void>();
  /** The dedup window prepareIntake() was called with, to read it in again in a restarted writer. */
  private intakeWindowMs: number | null = null;

  constructor(
    path: string,
    private readonly opts: ThreadedSqliteOptions = {},
  ) {
    this.reader = new SqliteStore(path, { mode: 'reader' });
    this.host = opts.link
      ? undefined
      : new WriterHost(path, {
          onError: (message) => this.opts.onError?.(message),
          onRestart: () => this.onWriterRestart(),
        }, 500, opts.maxSizeMb);
  }

  async start(): Promise<void> {
    if (this.writer) return;
    if (this.host) {
      await this.host.start();
      this.writer = new RemoteWriter(this.host.connect());
    } else if (this.opts.link) {
      this.writer = new RemoteWriter(this.opts.link.sqliteWriter);
    }
    await this.reader.start();
  }

  async stop(): Promise<void> {
    this.writer?.close();
    this.writer = undefined;
    await this.reader.stop();
    await this.host?.stop();
  }

  onWorkAvailable(_listener: () => void): () => void {
    return () => {};
  }

  /** A port for another thread's store; call again after `onRelink` fires (the writer was restarted). */
  shareWithThread(): StoreLink | undefined {
    if (!this.host) throw new BridgeError('store_not_owner', 'only the store that started the writer thread can share it');
    return { sqliteWriter: this.host.connect() };
  }

  /** Fires after a writer restart: ports handed out by shareWithThread() are dead. */
  onRelink(listener: () => void): () => void {
    this.relinkListeners.add(listener);
    return () => this.relinkListeners.delete(listener);
  }

  /** Puts in a new port after the owner's writer was restarted. */
  relink(link: StoreLink): void {
    if (this.writer) this.writer.relink(link.sqliteWriter);
    else this.writer = new RemoteWriter(link.sqliteWriter);
  }

  async prepareIntake(dedupWindowMs: number | null): Promise<void> {
    this.intakeWindowMs = dedupWindowMs;
    await this.callWriter('prepareIntake', [dedupWindowMs]);
  }

  /** Test hook: ends the writer thread as a crash would. */
  async killWriter(): Promise<void> {
    await this.host?.kill();
  }

  private onWriterRestart(): void {
    if (!this.host) return;
    this.writer?.relink(this.host.connect());
    // A restarted writer has an empty dedup index: read the window in before the next insert has to.
    if (this.intakeWindowMs !== null) {
      this.callWriter('prepareIntake', [this.intakeWindowMs]).catch((err: unknown) =>
        this.opts.onError?.(`reading the dedup window into the restarted SQLite writer failed: ${(err as Error).message}`),
      );
    }
    for (const l of this.relinkListeners) l();
  }

  /** @internal used by the generated methods below */
  callWriter(method: StoreMethod, args: unknown[]): Promise<unknown> {
    if (!this.writer) return Promise.reject(new BridgeError('store_closed', 'store is not started'));
    return this.writer.call(method, args);
  }

  /** @internal used by the generated methods below */
  readerStore(): SqliteStore {
    return this.reader;
  }
}

// The other store methods, generated from METHOD_PLACE instead of ~36 hand-written forwarders.
export interface ThreadedSqliteStore extends Pick<TelegramStore, StoreMethod> {}
for (const [method, place] of Object.entries(METHOD_PLACE) as Array<[StoreMethod, 'read' | 'write']>) {
  if (Object.hasOwn(ThreadedSqliteStore.prototype, method)) continue; // written out in the class
  Object.defineProperty(ThreadedSqliteStore.prototype, method, {
    value:
      place === 'write'
        ? function (this: ThreadedSqliteStore, ...args: unknown[]) {
            return this.callWriter(method, args);
          }
        : function (this: ThreadedSqliteStore, ...args: unknown[]) {
            const reader = this.readerStore();
            return (reader[method] as (...a: unknown[]) => unknown).apply(reader, args);
          },
  });
}
