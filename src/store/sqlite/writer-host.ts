import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { toErrorCode } from '../../lib/error-codes.js';
import { BridgeError } from '../../lib/errors.js';
import { spawnThread } from '../../lib/spawn-thread.js';
import { ProcessLock } from './process-lock.js';
import type { FromWriter, ToWriter } from './writer-protocol.js';

export interface WriterHostEvents {
  /** A background error of the writer thread (checkpoint failed, thread died). */
  onError(message: string): void;
  /** The writer thread was restarted: every port handed out before is dead. */
  onRestart(): void;
}

/**
 * Owns the SQLite writer thread: holds the process lock, starts the thread,
 * hands out ports to it, and restarts it when it dies (a native crash or an
 * out-of-memory in the thread must not take the HTTP side down). Jobs leased
 * at that moment stay leased by the live pipeline, so a restart does not
 * requeue them; the lease covers a pipeline that died with it.
 */
export class WriterHost {
  private worker: Worker | undefined;
  private lock: ProcessLock | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly events: WriterHostEvents,
    private readonly restartDelayMs = 500,
    private readonly maxSizeMb?: number,
  ) {}

  async start(): Promise<void> {
    if (this.lock) return;
    this.stopping = false;
    // A fresh install has no ./data yet: the lock file and the database go there.
    mkdirSync(dirname(this.path), { recursive: true });
    this.lock = new ProcessLock(this.path);
    this.lock.acquire();
    try {
      await this.spawn(true);
    } catch (err) {
      // The failed thread's exit must not schedule a restart: it would run without the lock released here.
      this.stopping = true;
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.lock.release();
      this.lock = undefined;
      throw err;
    }
  }

  /** A new port to the writer; the caller owns it (and may transfer it to another thread). */
  connect(): MessagePort {
    const worker = this.worker;
    if (!worker) throw new BridgeError('store_unavailable', 'the SQLite writer thread is not running', { retryable: true });
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ t: 'attach', port: port1 } satisfies ToWriter, [port1]);
    return port2;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Test hook and last resort: ends the thread as a crash would. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ t: 'stop' } satisfies ToWriter);
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
      this.worker = undefined;
    }
    this.lock?.release();
    this.lock = undefined;
  }

  private spawn(first: boolean): Promise<void> {
    const worker = spawnThread(import.meta.url, 'writer-thread', { workerData: { path: this.path, recover: first, maxSizeMb: this.maxSizeMb } });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      const onStart = (m: FromWriter): void => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'failed') reject(new BridgeError(toErrorCode(m.error.code, 'store_start_failed'), m.error.message, { retryable: m.error.retryable }));
        else return;
        worker.off('message', onStart);
      };
      worker.on('message', onStart);
      worker.once('exit', (code) => reject(new BridgeError('store_start_failed', `SQLite writer thread exited with code ${code} while starting`)));
    });
    worker.on('message', (m: FromWriter) => {
      if (m.t === 'error') this.events.onError(m.message);
    });
    worker.on('error', (err) => this.events.onError(`SQLite writer thread failed: ${err.message}`));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopping) return;
      this.events.onError(`SQLite writer thread exited; restarting in ${this.restartDelayMs} ms`);
      this.restartTimer = setTimeout(() => {
        this.spawn(false).then(
          () => this.events.onRestart(),
          (err: unknown) => this.events.onError(`restarting the SQLite writer thread failed: ${(err as Error).message}`),
        );
      }, this.restartDelayMs);
    });
    return ready;
  }
}
