import type { BridgeEvents } from '../observability/events.js';
import type { StoreLink } from '../store/store.js';
import type { PipelineStatus } from './pipeline.js';

/** Messages between the HTTP side and the pipeline thread. */
export type ToPipeline =
  | { t: 'wake' } | { t: 'mappings' } | { t: 'stop' } | { t: 'storeLink'; link: StoreLink }
  | { t: 'meterDeleted'; meterId: string; manufacturer: string | null };

export type FromPipeline =
  | { t: 'started' }
  | { t: 'failed'; code: string; message: string }
  | { t: 'stopped' }
  | { t: 'log'; line: string }
  | { t: 'status'; status: PipelineStatus }
  | { t: 'events'; list: ForwardedEvent[] };

/** One event the pipeline emitted; they travel in batches (one message per event-loop turn). */
export type ForwardedEvent = { [K in keyof BridgeEvents]: { name: K; payload: BridgeEvents[K] } }[keyof BridgeEvents];

/** Events the pipeline emits that the HTTP side's metrics, sync waiter and health need. */
export const FORWARDED_EVENTS = ['jobFinished', 'jobRetry', 'jobFenced', 'jobDeferred', 'lobaroRequest', 'circuit', 'published', 'mqttConnection'] as const satisfies ReadonlyArray<keyof BridgeEvents>;

/** What the thread entry gets as workerData (the link's port is transferred). */
export interface PipelineWorkerData {
  config: unknown;
  mqttUrl: string;
  link: StoreLink | undefined;
}
