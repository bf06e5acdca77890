import { SCHEMA } from '../publish/payloads.js';
import { EVENTS_TOPIC, topicLevel } from '../publish/topics.js';
import type { OutboxMessage } from '../store/store.js';

/** Gateway liveness (issue 12): `new` until the first evaluation, then online or silent. */
export type GatewayStatus = 'new' | 'online' | 'silent';

export interface GatewayLiveness {
  gatewayId: string;
  status: GatewayStatus;
  /** Epoch ms of the first and the last accepted telegram. */
  firstSeen: number;
  lastSeen: number;
  /** Epoch ms of the last status change. */
  changedAt: number;
}

/** One status change found by an evaluation. */
export interface GatewayTransition {
  gatewayId: string;
  from: GatewayStatus;
  to: 'online' | 'silent';
  lastSeen: number;
  /** Epoch ms of the previous change (when a silent gateway went silent). */
  since: number;
}

/** Rows whose status is not what it should be `now`, as transitions (the stores apply them in one transaction). */
export function transitionsOf(rows: readonly GatewayLiveness[], now: number, silentMs: number): GatewayTransition[] {
  const out: GatewayTransition[] = [];
  for (const g of rows) {
    const to = targetStatus(g.lastSeen, now, silentMs);
    if (to !== g.status) out.push({ gatewayId: g.gatewayId, from: g.status, to, lastSeen: g.lastSeen, since: g.changedAt });
  }
  return out;
}

/** The retained state topic of one gateway. */
export function gatewayStatusTopic(gatewayId: string): string {
  return `oms/v1/gw/${topicLevel(gatewayId)}/status`;
}

/** The status a gateway should have now: silent once nothing arrived for `silentMs`. */
export function targetStatus(lastSeen: number, now: number, silentMs: number): 'online' | 'silent' {
  return now - lastSeen >= silentMs ? 'silent' : 'online';
}

/**
 * The outbox messages of one transition: the retained state always; an event on
 * oms/v1/bridge/events when a known gateway falls silent or comes back (a gateway
 * seen for the first time only gets its state).
 */
export function transitionMessages(t: GatewayTransition, now: number): OutboxMessage[] {
  const state: OutboxMessage = { ingestId: null, kind: 'state', topic: gatewayStatusTopic(t.gatewayId), payload: t.to, qos: 1, retain: true };
  if (t.from === 'new') return [state];
  const payload = {
    schema: SCHEMA, event: t.to === 'silent' ? 'gateway_silent' : 'gateway_back', at: new Date(now).toISOString(),
    gateway_id: t.gatewayId, last_seen: new Date(t.lastSeen).toISOString(),
    ...(t.to === 'silent' ? { silent_s: Math.round((now - t.lastSeen) / 1_000) } : { silent_since: new Date(t.since).toISOString() }),
  };
  return [{ ingestId: null, kind: 'event', topic: EVENTS_TOPIC, payload: JSON.stringify(payload), qos: 1, retain: false }, state];
}
