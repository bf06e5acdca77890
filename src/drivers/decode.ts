/** `decode` plus meter drivers: the one call the local parser, the CLI and the tests use. Pure. */
import { decode, type DecodeOptions } from '../wmbus/decode.js';
import type { WmbusResult } from '../wmbus/types.js';
import { applyDrivers } from './interpreter.js';
import type { DriverRegistry } from './registry.js';

function undecrypted(r: WmbusResult): boolean {
  return r.Body.IsEncrypted || r.Body.DecryptionFailed;
}

/**
 * Decodes and runs the matching driver. A telegram that stays encrypted for want of a key is tried
 * once more with the manufacturer's published default key, when a driver for its header declares
 * one (Diehl ships meters in mode 5 with a default key unless the customer ordered their own).
 */
export function decodeWithDrivers(input: string | Uint8Array, opts: DecodeOptions, drivers: DriverRegistry): WmbusResult {
  let r = decode(input, opts);
  const noKey = opts.key === undefined || opts.key === null || opts.key === '';
  if (noKey && undecrypted(r)) {
    const defaultKey = drivers.find(r)?.def.defaultKey;
    if (defaultKey !== undefined) {
      const again = decode(input, { ...opts, key: defaultKey });
      if (!undecrypted(again) && again.Body.DataRecords.length > 0) {
        // The key identifier would fingerprint a published key and mislead; the flag says what happened.
        delete again.KeyIdentifier;
        again.DefaultKeyUsed = true;
        r = again;
      }
    }
  }
  return applyDrivers(r, drivers);
}
