import type { GatewayLiveness, GatewayStatus } from '../liveness/gateway-state.js';
import type { Row } from './store-rows.js';

export const GATEWAY_COLUMNS = 'gateway_id, status, first_seen, last_seen, changed_at';

/** Rows that may need a status change at `now` (the rest are already right). */
export const GATEWAY_DUE = `status = 'new' OR (status = 'online' AND last_seen <= :cutoff) OR (status = 'silent' AND last_seen > :cutoff)`;

export function toGateway(r: Row): GatewayLiveness {
  return {
    gatewayId: r.gateway_id as string, status: r.status as GatewayStatus,
    firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen), changedAt: Number(r.changed_at),
  };
}
