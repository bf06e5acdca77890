import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { BridgeError } from '../lib/errors.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { Pipeline, PipelineStatus } from './pipeline.js';
import type { FromPipeline, ToPipeline } from './protocol.js';

const IDLE: PipelineStatus = { mqttConnected: false, circuit: null, lastLobaroSuccessAt: null, inFlight: 0, running: false };

/**
 * Runs the pipeline in a worker thread so parsing, database writes of finished
 * jobs and MQTT publishing never sit between a gateway's request and its 202:
 * the event loop that answers gateways only validates and writes the telegram.
 * A thread that dies is restarted; its leased jobs are taken over after the lease.
 */
export class PipelineHost implements Pipeline {
  private worker: Worker | undefined;
  private current: PipelineStatus = IDLE;
  private stopping = false;
  private wakePending = false;
  private mqttUrl = '';
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly events: EventBus,
    private readonly log: Logger,
    /** Where the thread's log lines go (the same destination as this side's). */
    private readonly writeLog: (line: string) => void,
  ) {}

  async start(mqttUrl: string): Promise<void> {
    this.mqttUrl = mqttUrl;
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

  mappingsChanged(): void {
    this.post({ t: 'mappings' });
  }

  status(): PipelineStatus {
    return this.current;
  }

  private post(m: ToPipeline): void {
    this.worker?.postMessage(m);
  }

  private spawn(): Promise<void> {
    const { worker, ready } = startWorker(this.config, this.mqttUrl);
    this.worker = worker;
    worker.on('message', (m: FromPipeline) => this.onMessage(m));
    worker.on('error', (err) => this.log.error({ err }, 'pipeline thread failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.current = IDLE;
      if (this.stopping) return;
      this.log.error({ code }, 'pipeline thread exited; restarting in 1 s');
      this.restartTimer = setTimeout(() => {
        this.spawn().catch((err: unknown) => this.log.error({ err }, 'restarting the pipeline thread failed'));
      }, 1_000);
    });
    return ready;
  }

  private onMessage(m: FromPipeline): void {
    switch (m.t) {
      case 'log':
        this.writeLog(m.line);
        break;
      case 'status':
        this.current = m.status;
        break;
      case 'event':
        (this.events.emit as (name: string, payload: unknown) => void)(m.name, m.payload);
        break;
      default:
        break;
    }
  }
}

function startWorker(config: Readonly<Config>, mqttUrl: string): { worker: Worker; ready: Promise<void> } {
  const workerData = { config, mqttUrl };
  const entry = new URL(import.meta.url.endsWith('.ts') ? './pipeline-thread.ts' : './pipeline-thread.js', import.meta.url);
  // From sources (tests, `node --import tsx`) the thread needs tsx's loader; from dist/ it is plain JS.
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(tsxApi())}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`, { eval: true, workerData })
    : new Worker(entry, { workerData });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromPipeline): void => {
      if (m.t === 'started') {
        worker.off('message', onMessage);
        resolve();
      } else if (m.t === 'failed') {
        worker.off('message', onMessage);
        reject(new BridgeError(m.code, m.message));
      }
    };
    worker.on('message', onMessage);
    worker.once('exit', (code) => reject(new BridgeError('pipeline_start_failed', `pipeline thread exited with code ${code} while starting`)));
  });
  return { worker, ready };
}

function tsxApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return new URL(cjs.replace(/index\.cjs$/, 'index.mjs'), 'file://').href;
}
