import { applyMappings, decode, FormatCache, toValues, WmbusError, type WmbusResult } from '../../wmbus/index.js';
import { valuesFromDomainModel } from '../domain-values.js';
import { meterFromHeader, ParseError, type ParseRequest, type ParseResult, type Parser } from '../parser.js';

/** Parser on the built-in OMS decoder (src/wmbus): no network, same payload shape as Lobaro. */
export class LocalParser implements Parser {
  readonly name = 'local';
  private readonly formatCache = new FormatCache(10_000);

  async parse(req: ParseRequest): Promise<ParseResult> {
    let wmbus: WmbusResult;
    try {
      wmbus = decode(req.rawHex, { key: req.keyHex, formatCache: this.formatCache, acceptPredecrypted: req.predecrypted === true });
    } catch (err) {
      if (err instanceof WmbusError && err.code === 'unexpected_plaintext') {
        throw new ParseError('decrypt_failed', `${err.code}: ${err.message}`, { reason: 'unexpected_plaintext', cause: err });
      }
      if (err instanceof WmbusError) throw new ParseError('parse_failed', `${err.code}: ${err.message}`, { cause: err });
      throw err;
    }
    if (wmbus.Body?.DecryptionFailed) {
      throw new ParseError(req.keyHex ? 'decrypt_failed' : 'decrypt_key_missing',
        req.keyHex ? 'the AES key does not decrypt this telegram' : 'the telegram is encrypted and no AES key is known');
    }
    const model = applyMappings(wmbus, req.mappings, new Date());
    const fallback = meterFromHeader(req.header, null);
    const device = Number.parseInt(wmbus.Device, 16);
    return {
      parser: 'local',
      meter: {
        id: wmbus.IdString || fallback.id,
        manufacturer: wmbus.MFieldCodeString || fallback.manufacturer,
        device_type: Number.isNaN(device) ? fallback.device_type : device,
        version: wmbus.Version ?? fallback.version,
      },
      values: model ? valuesFromDomainModel(model) : toValues(wmbus),
      extra: { local: { wmbus, metering_domain_model: model } },
      authenticated: wmbus.Authenticated,
    };
  }
}

