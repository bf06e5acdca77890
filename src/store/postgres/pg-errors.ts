import { storeCodeOf } from '../../lib/error-codes.js';
import { BridgeError } from '../../lib/errors.js';

/** Socket errors of the pg driver when the server is down or the link broke. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/** pg's own errors without a code for a lost or unobtainable connection. */
const LOST = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * A PostgreSQL failure that a later retry can get past, as the bridge's retryable store error — so a gateway
 * gets 503 + Retry-After during a failover or a full disk instead of a 500. SQLSTATE classes: 08 connection,
 * 53 insufficient resources (53100 disk full), 57P operator intervention (shutdown, restart), 40 transaction
 * rollback (serialization, deadlock). Anything else is returned unchanged.
 */
export function pgStoreError(err: unknown): unknown {
  if (err instanceof BridgeError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (storeCodeOf(code) === 'storage_full') return new BridgeError('storage_full', 'the PostgreSQL disk is full', { retryable: true, cause: err });
  if (typeof code === 'string' && (/^(08|53|57P|40)/.test(code) || NETWORK.has(code))) {
    return new BridgeError('store_unavailable', `PostgreSQL is not available (${code})`, { retryable: true, cause: err });
  }
  if (code === undefined && err instanceof Error && LOST.test(err.message)) {
    return new BridgeError('store_unavailable', 'PostgreSQL is not available (connection lost)', { retryable: true, cause: err });
  }
  return err;
}
