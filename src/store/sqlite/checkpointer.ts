import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection. Plain JS (eval) so it works
// the same from dist/ and from sources run through tsx.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { timeout: 1000 });
const checkpoint = () => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
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
 * WAL frames (pages of 4 KiB) beyond which a checkpoint also starts the WAL over (256 MiB). SQLite
 * starts it over only when the writer begins a transaction while every frame is checkpointed, which
 * a steady load never allows: in a backlog drain (bench/busy.ts) it grew by ~40 MB/s to 1.9 GB, and
 * the file kept that size after the load. A restart holds the writer for 8–22 ms (the last frames
 * copied, two fsyncs), so it should be rare: at 64 MiB the ACK p99 at 2,000/s went from 9–16 to 21–23 ms.
 */
export const WAL_RESTART_FRAMES = 65_536;

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
    private readonly restartFrames = WAL_RESTART_FRAMES,
  ) {}

  start(): void {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    const workerData = { path: this.path, modulePath, intervalMs: this.intervalMs, restartFrames: this.restartFrames };
    const worker = new Worker(SOURCE, { eval: true, workerData });
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
