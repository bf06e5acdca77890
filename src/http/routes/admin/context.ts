import type { MeterKeyService } from '../../../security/meter-key-service.js';
import type { MappingStore } from '../../../store/mapping-store.js';
import type { TelegramStore } from '../../../store/store.js';
import type { GatewayTracker } from '../../../ingest/gateway-tracker.js';

/** What the admin routes need; built in the composition root. */
export interface AdminContext {
  store: TelegramStore;
  /** Every key write goes through it (sealed, stored, audited). */
  keys: MeterKeyService;
  mappings: MappingStore;
  gateways: GatewayTracker;
  /** Replayed jobs are runnable now. */
  wakeWorkers(): void;
  /** REPLAY_MAX: most telegrams one replay request re-queues. */
  replayMax: number;
  /** Jobs QUEUE_MAX still admits (0 when the queue is full). */
  queueRoom(): Promise<number>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fingerprint of the admin token, for the audit log. */
    adminActor?: string;
  }
}
