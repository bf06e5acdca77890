import { decodeWithDrivers, type DriverRegistry } from '../../drivers/index.js';
import { telegramLayout, type TelegramLayout } from '../../wmbus/layout.js';
import { toValues, WmbusError, type DecodedValue, type WmbusResult } from '../../wmbus/index.js';

/** The console inspector's view of one telegram: the decode, its byte layout and values. */
export interface Inspection {
  /** The Lobaro-shaped decode, without KeyIdentifier; null when the decoder refused the telegram. */
  result: WmbusResult | null;
  /** Why the decoder refused it (WmbusError code and message). */
  error: { code: string; message: string } | null;
  /** null when not even the frame could be read. */
  layout: TelegramLayout | null;
  values: DecodedValue[];
}

/**
 * Decodes like the local parser (meter drivers, a driver's default key, no format cache and no
 * pre-decrypted plaintext) and lays the bytes out. Pure: nothing is stored, the key is not kept.
 */
export function inspectTelegram(hex: string, key: string | null, drivers: DriverRegistry): Inspection {
  let result: WmbusResult | null = null;
  let error: Inspection['error'] = null;
  try {
    result = decodeWithDrivers(hex, { key, acceptPredecrypted: false }, drivers);
    // A fingerprint of the key has no place in an answer about the telegram.
    delete result.KeyIdentifier;
  } catch (e) {
    if (!(e instanceof WmbusError)) throw e;
    error = { code: e.code, message: e.message };
  }
  let layout: TelegramLayout | null = null;
  try {
    // The default key a driver supplied is what decrypted the payload: lay it out the same way.
    layout = telegramLayout(hex, result?.DefaultKeyUsed ? defaultKey(result, drivers) : key);
  } catch (e) {
    if (!(e instanceof WmbusError)) throw e;
  }
  const undecrypted = result === null || result.Body.IsEncrypted || result.Body.DecryptionFailed;
  return { result, error, layout, values: undecrypted || result === null ? [] : toValues(result) };
}

function defaultKey(result: WmbusResult, drivers: DriverRegistry): string | null {
  return drivers.find(result)?.def.defaultKey ?? null;
}
