import type { Worker } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { toErrorCode } from '../lib/error-codes.js';
import { BridgeError } from '../lib/errors.js';
import { spawnThread } from '../lib/spawn-thread.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { TelegramStore } from '../store/store.js';
import type { Pipeline, PipelineStatus } from './pipeline.js';
import type { FromPipeline, PipelineWorkerData, ToPipeline } from './protocol.js';

const IDLE: PipelineStatus = { mqttConnected: false, mqttTlsFailure: null, circuit: null, lastLobaroSuccessAt: null, lobaroRateLimit: null, inFlight: 0, running: false };

export interface PipelineHostDeps {
  config: Readonly<Config>;
  /** The HTTP side's store: the thread gets a link to its SQLite writer (PostgreSQL: its own pool). */
  store: TelegramStore;
  events: EventBus;
  log: Logger;
  /** Where the thread's log lines go (the same destination as this side's). */
  writeLog: (line: string) => void;
}

/**
 * Runs the pipeline in a worker thread so parsing, result commits and MQTT
 * publishing never sit between a gateway's request and its 202: the event loop
 * that answers gateways only validates and hands the telegram to the writer.
 * A thread that dies is restarted; its leased jobs are taken over after the lease.
 */
export class PipelineHost implements Pipeline {
  private worker: Worker | undefined;
  private current: PipelineStatus = IDLE;
  private stopping = false;
  private wakePending = false;
  private mqttUrl = '';
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: PipelineHostDeps) {}

  async start(mqttUrl: string): Promise<void> {
    this.mqttUrl = mqttUrl;
    this.unsubscribe.push(
      this.deps.events.on('mappingsChanged', () => this.post({ t: 'mappings' })),
      this.deps.events.on('meterDeleted', (e) => this.post({ t: 'meterDeleted', ...e })),
      this.deps.store.onRelink(() => this.sendLink()),
    );
    try {
      await this.spawn();
    } catch (err) {
      // A thread that cannot start (bad secret, unreachable database) is a start failure, not a restart loop.
      this.stopping = true;
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.post({ t: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 25_000);
    await exited;
    clearTimeout(timer);
    this.worker = undefined;
    this.current = IDLE;
  }

  /** Coalesced: one message per event-loop turn however many telegrams arrived. */
  wake(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.post({ t: 'wake' });
    });
  }

  status(): PipelineStatus {
    return this.current;
  }

  /** Test hook: ends the thread as a crash would. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private post(m: ToPipeline): void {
    this.worker?.postMessage(m);
  }

  private sendLink(): void {
    const link = this.deps.store.shareWithThread();
    if (link && this.worker) this.worker.postMessage({ t: 'storeLink', link } satisfies ToPipeline, [link.sqliteWriter]);
  }

  private spawn(): Promise<void> {
    const link = this.deps.store.shareWithThread();
    const workerData: PipelineWorkerData = { config: this.deps.config, mqttUrl: this.mqttUrl, link };
    const worker = spawnThread(import.meta.url, 'pipeline-thread', { workerData, transferList: link ? [link.sqliteWriter] : [] });
    this.worker = worker;
    worker.on('message', (m: FromPipeline) => this.onMessage(m));
    worker.on('error', (err) => this.deps.log.error({ err }, 'pipeline thread failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.current = IDLE;
      if (this.stopping) return;
      this.deps.log.error({ code }, 'pipeline thread exited; restarting in 1 s');
      this.restartTimer = setTimeout(() => {
        this.spawn().catch((err: unknown) => this.deps.log.error({ err }, 'restarting the pipeline thread failed'));
      }, 1_000);
    });
    return started(worker);
  }

  private onMessage(m: FromPipeline): void {
    switch (m.t) {
      case 'log':
        this.deps.writeLog(m.line);
        break;
      case 'status':
        this.current = m.status;
        break;
      case 'events':
        for (const e of m.list) (this.deps.events.emit as (name: string, payload: unknown) => void)(e.name, e.payload);
        break;
      default:
        break;
    }
  }
}

function started(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromPipeline): void => {
      if (m.t === 'started') {
        worker.off('message', onMessage);
        resolve();
      } else if (m.t === 'failed') {
        worker.off('message', onMessage);
        reject(new BridgeError(toErrorCode(m.code, 'pipeline_start_failed'), m.message));
      }
    };
    worker.on('message', onMessage);
    worker.once('exit', (code) => reject(new BridgeError('pipeline_start_failed', `pipeline thread exited with code ${code} while starting`)));
  });
}
