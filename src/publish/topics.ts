/** Characters allowed in one topic level we fill in; anything else could split or wildcard a topic. */
const SAFE = /[^A-Za-z0-9._-]/g;

/** Makes a value safe as exactly one MQTT topic level ('+', '#', '/' and control characters never get through). */
export function topicLevel(value: string | null | undefined): string {
  const v = (value ?? '').replace(SAFE, '_').slice(0, 64);
  return v === '' ? 'unknown' : v;
}

export const STATUS_TOPIC = 'oms/v1/bridge/status';
/** Bridge events (a meter went stale or came back), JSON, not retained. */
export const EVENTS_TOPIC = 'oms/v1/bridge/events';

/**
 * Where the retained online/offline status (with its last will) goes. A single
 * SQLite instance uses the well-known topic; instances sharing a PostgreSQL
 * database each get their own, so one dying never marks the others offline.
 */
export function statusTopic(databaseUrl: string, instanceId: string): string {
  return databaseUrl.startsWith('postgres') ? `oms/v1/bridge/${topicLevel(instanceId)}/status` : STATUS_TOPIC;
}

/** Renders the bridge's topics. Raw and error topics are fixed; the reading topic follows MQTT_TOPIC_TEMPLATE. */
export class Topics {
  constructor(private readonly readingTemplate: string) {}

  raw(gatewayId: string, ingestId: string): string {
    return `oms/v1/gw/${topicLevel(gatewayId)}/raw/${topicLevel(ingestId)}`;
  }

  reading(gatewayId: string, meterId: string | null | undefined): string {
    return `${this.readingTemplate
      .replaceAll('{gateway_id}', topicLevel(gatewayId))
      .replaceAll('{meter_id}', topicLevel(meterId))}/reading`;
  }

  /** A merged reading with MERGE_TOPIC=meter: one topic per meter, whichever gateways heard it. */
  meterReading(meterId: string | null | undefined): string {
    return `oms/v1/meter/${topicLevel(meterId)}/reading`;
  }

  error(gatewayId: string, ingestId: string): string {
    return `oms/v1/gw/${topicLevel(gatewayId)}/errors/${topicLevel(ingestId)}`;
  }
}
