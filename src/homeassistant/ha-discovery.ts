import type { OutboxMessage } from '../store/store.js';
import type { Job } from '../store/store.js';
import type { MeterInfo, NormalizedValue } from '../publish/payloads.js';
import { topicLevel } from '../publish/topics.js';
import { bridgeDiscovery, deviceId, meterDiscovery, type DiscoveryMessage, type DiscoveryOptions } from './discovery.js';
import { entitiesOf, type EntitySpec } from './entities.js';

export interface HaDiscoveryOptions extends DiscoveryOptions {
  /** Meters whose configs are remembered for the HA birth re-publish; beyond it the longest unseen is forgotten (its retained config stays on the broker). */
  maxMeters: number;
}

/** Sensors of one HA device at most; values beyond it stay in the reading payload only. */
export const MAX_ENTITIES_PER_METER = 256;

export interface StateOptions {
  /** HA's expire_after for the meter's sensors. */
  expireAfterS?: number | undefined;
  /** False for a telegram older than one already heard from the meter: configs may still change, the state does not. */
  latest?: boolean;
  /** The meter had no record (first heard, or deleted, maybe through another instance): send its config even if this process sent it before. */
  first?: boolean;
}

/** What a reading adds to the outbox for HA, and what to remember once it is stored. */
export interface HaMessages {
  messages: OutboxMessage[];
  /** Call after the reading and these messages were stored: the configs now count as sent. */
  commit(): void;
}

interface Known {
  meter: { id: string; manufacturer: string | null };
  /** Union of every value the meter sent since this process started, by state key. */
  entities: Map<string, Omit<EntitySpec, 'value'>>;
  config: DiscoveryMessage;
  /** Last value of every key, so a short frame without some value does not blank its sensor. */
  values: Record<string, number | string>;
}

/** Gateway-independent: one meter heard by two gateways is one HA device with one state topic. */
export function stateTopic(meter: Pick<MeterInfo, 'id' | 'manufacturer'>): string {
  return `oms/v1/meter/${topicLevel(meter.manufacturer ?? 'x')}_${topicLevel(meter.id)}/state`;
}

/**
 * Home Assistant discovery for the pipeline. For each reading it writes the
 * meter's flat state (retained) and, when the meter or one of its values is
 * new to this process, the device config; both go through the outbox in the
 * reading's transaction, so they are as durable as the reading. Configs are
 * retained and idempotent: re-sending one after a restart changes nothing in HA.
 */
export class HaDiscovery {
  private readonly known = new Map<string, Known>();
  private bridgeSent = false;

  constructor(private readonly opts: HaDiscoveryOptions) {}

  messagesFor(job: Pick<Job, 'ingestId' | 'rxTime' | 'rssiDbm' | 'gatewayId' | 'meterId'>, meter: MeterInfo, parser: string, values: NormalizedValue[], opts: StateOptions = {}): HaMessages {
    const { expireAfterS, latest = true, first = false } = opts;
    const id = job.meterId ?? meter.id;
    if (id === null) return { messages: [], commit: () => undefined };
    const identity = { id, manufacturer: meter.manufacturer, deviceType: meter.device_type, parser };
    const topic = stateTopic(identity);
    const dev = deviceId(identity);
    const before = this.known.get(dev);
    // Keys come from telegram content (storage numbers, tariffs, descriptions): a sender that varies them
    // must not grow one device's config and state without end. Known keys always pass; new ones up to the cap.
    let room = MAX_ENTITIES_PER_METER - (before?.entities.size ?? 0);
    const entities = entitiesOf(values, meter.device_type).filter((e) => before?.entities.has(e.key) || room-- > 0);
    const fresh: Record<string, number | string> = {};
    for (const e of entities) fresh[e.key] = e.value;
    const messages: OutboxMessage[] = [];
    // An older telegram arriving late would set the retained state back (and a total_increasing sensor that goes down is a meter reset to HA's statistics).
    if (latest) {
      // HA renders a missing key as an empty (non-numeric) state and logs an error for each message.
      const state: Record<string, unknown> = { ...before?.values, ...fresh };
      state.rssi_dbm = job.rssiDbm;
      state.last_seen = job.rxTime;
      state.gateway_id = job.gatewayId;
      // No ingest id: published_at of the telegram is stamped by its reading alone.
      messages.push({ ingestId: null, kind: 'state', topic, payload: JSON.stringify(state), qos: 1, retain: true });
    }

    const union = new Map(before?.entities);
    for (const { value: _, ...spec } of entities) if (!union.has(spec.key)) union.set(spec.key, spec);
    const all = [...union.values()].map((e) => ({ ...e, value: 0 }));
    const config = meterDiscovery(identity, all, topic, this.opts, expireAfterS);
    const changed = first || before?.config.payload !== config.payload;
    if (changed) messages.unshift({ ingestId: null, kind: 'discovery', topic: config.topic, payload: config.payload, qos: 1, retain: true });
    const sendBridge = !this.bridgeSent;
    if (sendBridge) {
      const b = bridgeDiscovery(this.opts);
      messages.unshift({ ingestId: null, kind: 'discovery', topic: b.topic, payload: b.payload, qos: 1, retain: true });
    }
    return {
      messages,
      commit: () => {
        if (sendBridge) this.bridgeSent = true;
        // Several readings of one meter may be committing at once: merge into what the others committed
        // meanwhile instead of writing back the snapshot this one started from.
        const now = this.known.get(dev);
        const merged = new Map(now?.entities ?? union);
        for (const [key, spec] of union) if (!merged.has(key) && merged.size < MAX_ENTITIES_PER_METER) merged.set(key, spec);
        const values = latest ? { ...now?.values, ...fresh } : (now?.values ?? fresh);
        // The config that went out last; the next reading compares the merged sensors against it.
        const sent = changed || !now ? config : now.config;
        this.known.delete(dev);
        this.known.set(dev, { meter: { id, manufacturer: meter.manufacturer }, entities: merged, config: sent, values });
        if (this.known.size > this.opts.maxMeters) this.known.delete(this.known.keys().next().value!);
      },
    };
  }

  /** Every config this process knows, for HA's birth message (HA restarted and may have lost them). */
  all(): { bridge: DiscoveryMessage; meters: Array<{ meter: { id: string; manufacturer: string | null }; config: DiscoveryMessage }> } {
    return { bridge: bridgeDiscovery(this.opts), meters: [...this.known.values()].map((k) => ({ meter: k.meter, config: k.config })) };
  }

  /** Forgets a meter (deleted or blocked): its config is cleared on the broker by the caller. */
  forget(meter: { id: string; manufacturer: string | null }): void {
    this.known.delete(deviceId(meter));
  }
}
