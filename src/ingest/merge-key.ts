import { createHash } from 'node:crypto';
import { detectFrame } from '../wmbus/frame.js';
import { toBytes } from '../wmbus/hex.js';

/**
 * What makes two receptions one radio transmission (DEDUP_SCOPE=global): the meter address
 * (M + A fields) and everything from the CI field on, with CRCs removed. The L and C fields are
 * left out: repeaters and gateways that re-frame a telegram change the data link layer, not the
 * meter's own bytes. A telegram without a link layer is taken as it is.
 */
export function mergeHash(rawHex: string): string {
  const h = createHash('sha256');
  try {
    const frame = detectFrame(toBytes(rawHex));
    if (frame.layout === 'dll' && frame.data.length > 2) return h.update(frame.data.subarray(2)).digest('hex');
  } catch {
    // Not a frame the decoder knows: the raw bytes are the best key there is.
  }
  return h.update(rawHex.toLowerCase()).digest('hex');
}
