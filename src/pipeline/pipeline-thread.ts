import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { type BridgeEvents, EventBus } from '../observability/events.js';
import { MessageBatch } from '../lib/message-batch.js';
import { niceThisThread } from '../lib/thread-priority.js';
import { createLogger } from '../observability/logger.js';
import { openVault } from '../security/key-vault.js';
import { createStore } from '../store/create-store.js';
import { MappingStore } from '../store/mapping-store.js';
import { buildPipeline, type Pipeline } from './pipeline.js';
import { FORWARDED_EVENTS, type ForwardedEvent, type FromPipeline, type PipelineWorkerData, type ToPipeline } from './protocol.js';

/**
 * Entry of the pipeline thread: turns workerData into the pipeline's deps and
 * calls buildPipeline(). Events, logs and status go back to the parent; wake,
 * mappings, a new store link and stop come in.
 */
async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('pipeline-thread must run in a worker thread');
  const data = workerData as PipelineWorkerData;
  const config = data.config as Config;
  const send = (m: FromPipeline): void => port.postMessage(m);
  const log = createLogger(config.logLevel, { write: (line: string) => send({ t: 'log', line }) }).child({ thread: 'pipeline' });
  const events = new EventBus(log);
  const forwarded = new MessageBatch<ForwardedEvent>((list) => send({ t: 'events', list }));
  for (const name of FORWARDED_EVENTS) {
    events.on(name, (payload: BridgeEvents[typeof name]) => {
      // The published payload stays here: copying every reading to the HTTP thread costs more than the rare ?sync=true read.
      const slim = name === 'jobFinished' ? { ...payload, payload: undefined } : payload;
      forwarded.push({ name, payload: slim } as ForwardedEvent);
    });
  }
  const store = createStore(config.databaseUrl, { log: log.child({ stage: 'store' }), link: data.link });
  const mappings = new MappingStore(config.mappingsFile, store, log.child({ stage: 'mappings' }), { importFile: false });
  let pipeline: Pipeline | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  const sendStatus = (): void => {
    if (pipeline) send({ t: 'status', status: pipeline.status() });
  };

  port.on('message', (m: ToPipeline) => {
    if (m.t === 'wake') pipeline?.wake();
    else if (m.t === 'mappings') events.emit('mappingsChanged', {});
    else if (m.t === 'meterDeleted') events.emit('meterDeleted', { meterId: m.meterId, manufacturer: m.manufacturer });
    else if (m.t === 'storeLink') store.relink?.(m.link);
    else if (m.t === 'stop') {
      void (async () => {
        if (statusTimer) clearInterval(statusTimer);
        await pipeline?.stop();
        await mappings.stop();
        await store.stop();
        forwarded.flush();
        send({ t: 'stopped' });
        port.close();
      })();
    }
  });

  try {
    await store.start();
    const vault = await openVault(store, config.keyEncryptionSecret);
    await mappings.start();
    pipeline = buildPipeline({ config, store, vault, mappings, events, log });
    await pipeline.start(data.mqttUrl);
    events.on('mqttConnection', sendStatus);
    events.on('circuit', sendStatus);
    try {
      niceThisThread(config.pipelineNice);
    } catch (err) {
      log.warn({ err, nice: config.pipelineNice }, 'could not lower the pipeline thread priority; it competes with ingest for the CPU');
    }
    statusTimer = setInterval(sendStatus, 250);
    sendStatus();
    send({ t: 'started' });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    send({ t: 'failed', code: e.code ?? 'pipeline_start_failed', message: e.message ?? String(err) });
    await store.stop().catch(() => undefined);
    port.close();
  }
}

void run();
