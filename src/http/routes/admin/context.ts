import type { MeterKeyService } from '../../../security/meter-key-service.js';
import type { MappingStore } from '../../../store/mapping-store.js';
import type { AuditLog, KeyProblems, Mappings, MeterKeys, MeterRegistry, Outbox, TelegramQueries } from '../../../store/roles.js';
import type { GatewayTracker } from '../../../ingest/gateway-tracker.js';
import type { Overview } from '../../../observability/overview.js';
import type { DriverRegistry } from '../../../drivers/index.js';

/** What the admin routes need; built in the composition root. */
export interface AdminContext {
  store: TelegramQueries & MeterKeys & KeyProblems & Mappings & MeterRegistry & AuditLog & Pick<Outbox, 'enqueueMessages'>;
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
  /** HA_DISCOVERY_PREFIX when HA discovery is on: deleting a meter clears its config there. */
  haDiscoveryPrefix?: string | undefined;
  /** Tells the pipeline (its discovery cache) that a meter was deleted; queued messages are published now. */
  meterDeleted(meterId: string, manufacturer: string | null): void;
  /** The console's overview (OverviewTracker). */
  overview: { snapshot(): Promise<Overview> };
  /** Meter drivers for the inspector (POST /v1/admin/decode), as the local parser loads them. */
  drivers: DriverRegistry;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fingerprint of the admin token, for the audit log. */
    adminActor?: string;
  }
}
