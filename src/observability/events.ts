import type { TopicKind } from '../store/store.js';
import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

/** Typed events the pipeline stages emit; logs and metrics subscribe in the composition root. */
export interface BridgeEvents {
  accepted: { ingestId: string; gatewayId: string; durationMs: number };
  duplicate: { ingestId: string; gatewayId: string };
  /** A new telegram carried the gateway's own receive time (rx_time); `driftMs` = rx_time − server time at accept. */
  gatewayClock: { gatewayId: string; driftMs: number };
  /** Every answer of POST /v1/telegrams, accepted or not. */
  ingestResponse: { gatewayId: string | undefined; status: number; code?: string; durationMs: number; rssiDbm?: number };
  /** Items of one batch upload (HTTP) or of one round of MQTT ingress, by outcome; `repeated` = answered from an earlier client_id. */
  batchItems: { via: 'http' | 'mqtt'; gatewayId: string | undefined; accepted: number; duplicate: number; invalid: number; repeated: number };
  /** `payload` is the published object in the thread that built it; it does not cross threads (listeners read it from the store). */
  jobFinished: {
    ingestId: string; status: 'done' | 'error'; code?: string; attempts: number; payload?: Record<string, unknown>;
    /** With status error: the published error message and the meter, for the console's recent errors (they cross threads, unlike payload). */
    message?: string; meterId?: string | null;
  };
  jobRetry: { ingestId: string; attempt: number; delayMs: number; code: string };
  /** A late outcome from a worker whose lease was taken over; nothing was written. */
  jobFenced: { ingestId: string; outcome: 'finish' | 'retry' };
  /** The store failed under a job; it was queued again without using an attempt. */
  jobDeferred: { ingestId: string; code: string };
  lobaroRequest: { status: number | 'timeout' | 'network'; durationMs: number };
  circuit: { state: 'closed' | 'open' | 'half_open' };
  published: { topicKind: Exclude<TopicKind, 'status'>; count: number };
  mqttConnection: { connected: boolean };
  /** A meter sent nothing for its stale threshold (liveness monitor). */
  meterStale: { meterId: string; lastSeen: number };
  /** Telegrams accepted from one gateway (single, batch or MQTT ingress). */
  gatewayTelegrams: { gatewayId: string; count: number };
  /** A gateway changed liveness status (gateway monitor; on PostgreSQL only on the evaluating instance). */
  gatewayStatus: { gatewayId: string; status: 'online' | 'silent'; lastSeen: number };
  /** A meter was deleted through the admin API; HA discovery forgets it. */
  meterDeleted: { meterId: string; manufacturer: string | null };
  /** The active domain mapping changed (admin API); pipelines re-read it. */
  mappingsChanged: Record<string, never>;
}

type Listener<K extends keyof BridgeEvents> = (payload: BridgeEvents[K]) => void;

/**
 * A small typed event bus. Every listener is wrapped so one failing subscriber
 * never breaks the emitter (zigbee2mqtt lib/eventBus.ts).
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly log: Logger) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends keyof BridgeEvents>(event: K, listener: Listener<K>): () => void {
    const wrapped = (payload: BridgeEvents[K]): void => {
      try {
        listener(payload);
      } catch (err) {
        this.log.error({ err, event }, 'event listener failed');
      }
    };
    this.emitter.on(event, wrapped);
    return () => this.emitter.off(event, wrapped);
  }

  emit<K extends keyof BridgeEvents>(event: K, payload: BridgeEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  removeAll(): void {
    this.emitter.removeAllListeners();
  }
}
