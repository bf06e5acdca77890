import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayKeys } from '../config/gateway-keys.js';

/**
 * Looks gateway keys up by their SHA-256, so the comparison never runs over
 * the secret itself (no timing signal on how many leading characters match).
 */
export class GatewayAuth {
  private readonly byHash: Map<string, string>;

  constructor(keys: GatewayKeys) {
    this.byHash = new Map([...keys].map(([key, gw]) => [hash(key), gw]));
  }

  /** Gateway id the key may post for, '*' for a global key, undefined for an unknown key. */
  gatewayFor(authorization: string | undefined): string | undefined {
    const token = bearer(authorization);
    return token === undefined ? undefined : this.byHash.get(hash(token));
  }
}

export function bearer(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('base64');
}

/** Compares a presented secret with the expected one in constant time (over their SHA-256, so lengths leak nothing either). */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
