import { deviceTypeName } from '../wmbus/device-types.js';
import { manufacturerName } from '../wmbus/manufacturers.js';
import { topicLevel } from '../publish/topics.js';
import type { EntitySpec } from './entities.js';

/** Identifies the bridge itself as a device; meters point to it with `via_device`. */
export const BRIDGE_DEVICE_ID = 'oms_parser_bridge';

export interface DiscoveryOptions {
  /** HA_DISCOVERY_PREFIX, default `homeassistant`. */
  prefix: string;
  /** Retained online/offline topic of this bridge (availability of every entity). */
  statusTopic: string;
  /** Bridge version, shown as the origin of the discovered items. */
  swVersion: string;
}

export interface MeterIdentity {
  id: string;
  manufacturer: string | null;
  deviceType: number | null;
  /** Which parser (and driver) decoded it: `local`, `lobaro`. */
  parser: string;
}

/** One sensor as sent in a device-based discovery payload (abbreviated keys only where HA documents them). */
export type Component = Record<string, string | number | boolean>;

export interface DiscoveryMessage {
  topic: string;
  /** JSON text; '' clears the retained config (HA removes the device). */
  payload: string;
}

/** Stable across restarts and parsers: the radio address (manufacturer + id) names the device. */
export function deviceId(meter: Pick<MeterIdentity, 'id' | 'manufacturer'>): string {
  return `oms_${topicLevel(meter.manufacturer ?? 'x').toLowerCase()}_${topicLevel(meter.id).toLowerCase()}`;
}

export function configTopic(prefix: string, objectId: string): string {
  return `${prefix}/device/${objectId}/config`;
}

/**
 * Device-based discovery (HA ≥ 2024.12): one retained config per meter with a
 * component per value, read from the meter's flat state topic. RSSI and last
 * seen are diagnostic entities. `expireAfterS` (from the learned send interval)
 * makes HA show the values as unavailable when the meter falls silent.
 */
export function meterDiscovery(meter: MeterIdentity, entities: EntitySpec[], stateTopic: string, opts: DiscoveryOptions, expireAfterS?: number): DiscoveryMessage {
  const dev = deviceId(meter);
  const cmps: Record<string, Component> = {};
  for (const e of entities) {
    const c: Component = { p: 'sensor', name: e.name, unique_id: `${dev}_${e.key}`, value_template: `{{ value_json.${e.key} }}` };
    if (e.deviceClass !== undefined) c.device_class = e.deviceClass;
    if (e.unit !== undefined) c.unit_of_measurement = e.unit;
    if (e.stateClass !== undefined) c.state_class = e.stateClass;
    if (e.enabledByDefault === false) c.enabled_by_default = false;
    if (expireAfterS !== undefined) c.expire_after = expireAfterS;
    cmps[e.key] = c;
  }
  cmps.rssi = {
    p: 'sensor', name: 'RSSI', unique_id: `${dev}_rssi`, device_class: 'signal_strength', unit_of_measurement: 'dBm',
    state_class: 'measurement', entity_category: 'diagnostic', value_template: '{{ value_json.rssi_dbm }}',
  };
  cmps.last_seen = {
    p: 'sensor', name: 'Last seen', unique_id: `${dev}_last_seen`, device_class: 'timestamp', entity_category: 'diagnostic',
    value_template: '{{ value_json.last_seen }}',
  };
  const mfrName = meter.manufacturer ? manufacturerName(meter.manufacturer) : '';
  const model = meter.deviceType !== null ? deviceTypeName(meter.deviceType) : '';
  const payload = {
    dev: {
      ids: [dev],
      name: `${meter.manufacturer ?? 'Meter'} ${meter.id}`,
      mf: mfrName || meter.manufacturer || 'unknown',
      mdl: model ? `${model} (${meter.parser})` : meter.parser,
      sn: meter.id,
      via_device: BRIDGE_DEVICE_ID,
    },
    o: { name: 'oms-parser-bridge', sw: opts.swVersion },
    cmps,
    state_topic: stateTopic,
    availability_topic: opts.statusTopic,
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
  };
  return { topic: configTopic(opts.prefix, dev), payload: JSON.stringify(payload) };
}

/** The bridge as a device of its own, with a connectivity sensor on its status topic. */
export function bridgeDiscovery(opts: DiscoveryOptions): DiscoveryMessage {
  const payload = {
    dev: { ids: [BRIDGE_DEVICE_ID], name: 'OMS parser bridge', mf: 'oms-parser-bridge', mdl: 'wM-Bus/OMS to MQTT bridge', sw: opts.swVersion },
    o: { name: 'oms-parser-bridge', sw: opts.swVersion },
    cmps: {
      status: {
        p: 'binary_sensor', name: 'Status', unique_id: `${BRIDGE_DEVICE_ID}_status`, device_class: 'connectivity', entity_category: 'diagnostic',
        state_topic: opts.statusTopic, payload_on: 'online', payload_off: 'offline',
      },
    },
    qos: 1,
  };
  return { topic: configTopic(opts.prefix, BRIDGE_DEVICE_ID), payload: JSON.stringify(payload) };
}

/** An empty retained payload: HA removes the device and its entities, and the broker forgets the config. */
export function clearDiscovery(prefix: string, meter: Pick<MeterIdentity, 'id' | 'manufacturer'>): DiscoveryMessage {
  return { topic: configTopic(prefix, deviceId(meter)), payload: '' };
}
