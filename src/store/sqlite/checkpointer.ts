import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection. Plain JS (eval) so it works
// the same from dist/ and from sources run through tsx.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { timeout: 1000 });
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints off the event loop. A checkpoint copies pages into the
 * database file and fsyncs it — milliseconds that, on the main thread, land
 * on some unlucky request's ACK. PASSIVE never waits for the writer, and the
 * main connection keeps appending meanwhile.
 */
export class Checkpointer {
  private worker: Worker | undefined;

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  start(): void {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(SOURCE, { eval: true, workerData: { path: this.path, modulePath, intervalMs: this.intervalMs } });
    worker.on('message', (m: string) => this.onError(m));
    worker.on('error', (err) => this.onError(err.message));
    worker.unref();
    this.worker = worker;
  }

  /** Final checkpoint, then the thread ends. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
