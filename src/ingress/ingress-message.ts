import { checkTelegram, type ItemError } from '../ingest/check-telegram.js';
import type { BatchIngestInput } from '../ingest/ingest-service.js';

const GATEWAY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One ingress filter: its subscription (with `+` for the id) and where in a topic the gateway id stands. */
export interface IngressFilter {
  filter: string;
  subscription: string;
  levels: string[];
  idLevel: number;
}

export function ingressFilter(filter: string): IngressFilter {
  const levels = filter.split('/');
  return { filter, levels, idLevel: levels.indexOf('{gateway_id}'), subscription: levels.map((l) => (l === '{gateway_id}' ? '+' : l)).join('/') };
}

/** The gateway id level of `topic` under the first filter it matches; undefined when none matches. */
export function gatewayLevel(filters: IngressFilter[], topic: string): string | undefined {
  const parts = topic.split('/');
  for (const f of filters) {
    if (parts.length !== f.levels.length) continue;
    if (f.levels.every((l, i) => l === '+' || l === '{gateway_id}' || l === parts[i])) return parts[f.idLevel];
  }
  return undefined;
}

export type IngressParse =
  | { ok: true; input: BatchIngestInput }
  | { ok: false; gatewayId: string | undefined; error: ItemError };

/** Field names ESP32 raw bridges use, mapped to the HTTP API's. */
const ALIASES: Readonly<Record<string, string>> = { hex: 'raw_hex', telegram: 'raw_hex', data: 'raw_hex', rssi: 'rssi_dbm' };

/**
 * Turns one ingress message into an ingest input, with the same checks as the HTTP API. The topic's
 * gateway id is the authority (the broker's ACL decides who may publish there): a body naming another
 * gateway is refused. The payload is the JSON body of POST /v1/telegrams (without gateway_id, or with
 * the same one) or bare hex, with an optional 0x and any whitespace.
 */
export function parseIngressMessage(gatewayId: string | undefined, payload: Buffer): IngressParse {
  if (gatewayId === undefined || !GATEWAY_ID.test(gatewayId)) {
    return { ok: false, gatewayId: undefined, error: { code: 'validation_failed', message: 'the topic has no valid gateway id level', details: [{ field: 'gateway_id', problem: 'must match [A-Za-z0-9._-]{1,64}' }] } };
  }
  const text = payload.toString('utf8').trim();
  let body: Record<string, unknown>;
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) body[ALIASES[k] ?? k] = v;
    } catch {
      return { ok: false, gatewayId, error: { code: 'validation_failed', message: 'payload is neither a JSON object nor hex', details: [{ field: 'payload', problem: 'invalid JSON' }] } };
    }
    if (typeof body.raw_hex === 'string') body.raw_hex = cleanHex(body.raw_hex);
    if (body.gateway_id === undefined) body.gateway_id = gatewayId;
  } else {
    body = { gateway_id: gatewayId, raw_hex: cleanHex(text) };
  }
  const checked = checkTelegram(body, gatewayId);
  if (!checked.ok) {
    const error = checked.error.code === 'forbidden' ? { ...checked.error, message: 'gateway_id in the payload differs from the topic' } : checked.error;
    return { ok: false, gatewayId, error };
  }
  return checked;
}

function cleanHex(s: string): string {
  return s.replace(/\s+/g, '').replace(/^0x/i, '');
}
