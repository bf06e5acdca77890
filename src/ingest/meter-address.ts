import { parseHeader } from '../wmbus/index.js';
import { detectFrame } from '../wmbus/frame.js';
import { toBytes } from '../wmbus/hex.js';
import { parseLinkLayer } from '../wmbus/link-layer.js';

export interface MeterAddress {
  meterId: string;
  manufacturer: string;
}

/**
 * The meter's address for the telegram row and the raw message, as parseHeader() would give it
 * (the link-layer address of a radio telegram), without walking the transport and application
 * layers: that walk was the largest cost of accepting a telegram (bench/README.md). Wired M-Bus
 * frames and bare application layers still take the full header parse. Null when neither finds one.
 */
export function meterAddress(rawHex: string): MeterAddress | null {
  try {
    const frame = detectFrame(toBytes(rawHex));
    if (frame.layout === 'dll' && frame.data.length >= 11) {
      const { address } = parseLinkLayer(frame.data);
      return { meterId: address.idString, manufacturer: address.manufacturer };
    }
    const h = parseHeader(rawHex);
    return { meterId: h.meterId, manufacturer: h.manufacturer };
  } catch {
    return null;
  }
}
