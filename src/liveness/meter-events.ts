import { SCHEMA } from '../publish/payloads.js';
import { EVENTS_TOPIC } from '../publish/topics.js';
import type { OutboxMessage } from '../store/store.js';
import type { MeterGateway, MeterLiveness, MeterSeen } from './meter-state.js';

export type MeterEvent = 'meter_stale' | 'meter_back';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function gatewaysView(g: MeterGateway[]): Array<{ gateway_id: string; rssi_dbm: number | null; at: string }> {
  return g.map((x) => ({ gateway_id: x.gatewayId, rssi_dbm: x.rssiDbm, at: iso(x.at) }));
}

/** The message on oms/v1/bridge/events when a meter goes silent. */
export function staleEvent(m: MeterLiveness, now: number): OutboxMessage {
  const payload = {
    schema: SCHEMA, event: 'meter_stale' satisfies MeterEvent, at: iso(now), meter_id: m.meterId, manufacturer: m.manufacturer,
    last_seen: iso(m.lastSeen), interval_s: m.intervalMs === null ? null : Math.round(m.intervalMs / 1000), gateways: gatewaysView(m.gateways),
  };
  return { ingestId: null, kind: 'event', topic: EVENTS_TOPIC, payload: JSON.stringify(payload), qos: 1, retain: false };
}

/** The message when a stale meter is heard again; written with the liveness change that telegram made. */
export function backEvent(s: MeterSeen): OutboxMessage {
  const payload = {
    schema: SCHEMA, event: 'meter_back' satisfies MeterEvent, at: iso(s.at), meter_id: s.meterId, manufacturer: s.manufacturer,
    gateway_id: s.gatewayId, rssi_dbm: s.rssiDbm, ingest_id: s.ingestId,
  };
  // No ingest id on the row: published_at of the telegram is stamped by its reading alone.
  return { ingestId: null, kind: 'event', topic: EVENTS_TOPIC, payload: JSON.stringify(payload), qos: 1, retain: false };
}
