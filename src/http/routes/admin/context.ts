import type { KeyVault } from '../../../security/key-vault.js';
import type { MappingStore } from '../../../store/mapping-store.js';
import type { TelegramStore } from '../../../store/store.js';
import type { GatewayTracker } from '../../../ingest/gateway-tracker.js';

/** What the admin routes need; built in the composition root. */
export interface AdminContext {
  store: TelegramStore;
  vault: KeyVault;
  mappings: MappingStore;
  gateways: GatewayTracker;
  /** Replayed jobs are runnable now. */
  wakeWorkers(): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fingerprint of the admin token, for the audit log. */
    adminActor?: string;
  }
}
