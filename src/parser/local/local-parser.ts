import { applyMappings, FormatCache, readFragment, toValues, WmbusError, type WmbusResult } from '../../wmbus/index.js';
import { decodeWithDrivers, DriverRegistry } from '../../drivers/index.js';
import { valuesFromDomainModel } from '../domain-values.js';
import { meterFromHeader, ParseError, type ParseRequest, type ParseResult, type Parser } from '../parser.js';
import { FragmentBuffer } from './fragment-buffer.js';

/** Parser on the built-in OMS decoder (src/wmbus): no network, same payload shape as Lobaro. */
export class LocalParser implements Parser {
  readonly name = 'local';
  private readonly formatCache = new FormatCache(10_000);

  /**
   * `drivers`: meter drivers tried on every decode; none = standard OMS decoding only.
   * `fragments`: where AFL fragments wait for the rest of their message.
   */
  constructor(
    private readonly drivers: DriverRegistry = new DriverRegistry(),
    private readonly fragments: FragmentBuffer = new FragmentBuffer(),
  ) {}

  async parse(req: ParseRequest): Promise<ParseResult> {
    const rawHex = this.wholeMessage(req);
    let wmbus: WmbusResult;
    try {
      const receivedAt = req.rxTime !== undefined ? Date.parse(req.rxTime) : undefined;
      wmbus = decodeWithDrivers(rawHex, { key: req.keyHex, formatCache: this.formatCache, acceptPredecrypted: req.predecrypted === true, receivedAt }, this.drivers);
    } catch (err) {
      if (err instanceof WmbusError && err.code === 'unexpected_plaintext') {
        throw new ParseError('decrypt_failed', `${err.code}: ${err.message}`, { reason: 'unexpected_plaintext', cause: err });
      }
      // A bug inside the decoder is not the telegram's description: its text stays in the log (the worker logs the cause).
      if (err instanceof WmbusError && err.code === 'internal_error') throw new ParseError('parse_failed', 'internal_error: the decoder failed on this telegram (details in the bridge log)', { cause: err });
      if (err instanceof WmbusError) throw new ParseError('parse_failed', `${err.code}: ${err.message}`, { cause: err });
      throw err;
    }
    const d = wmbus.KeyDiagnosis;
    if (wmbus.Body?.DecryptionFailed || d?.problem === 'unsupported_mode') {
      // The stable code stays decrypt_key_missing / decrypt_failed; the message starts with the reason
      // (key_missing, wrong_key, truncated, unsupported_mode), so an operator knows whether to ask for a key or fix one.
      const missing = d !== undefined ? d.problem === 'key_missing' : !req.keyHex;
      const diagnosis = d ?? (missing
        ? { problem: 'key_missing' as const, detail: 'the telegram is encrypted and no AES key is known' }
        : { problem: 'wrong_key' as const, detail: 'the AES key does not decrypt this telegram' });
      throw new ParseError(missing ? 'decrypt_key_missing' : 'decrypt_failed', `${diagnosis.problem}: ${diagnosis.detail}`, { keyProblem: diagnosis });
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
      extra: { driver: wmbus.Driver, local: { wmbus, metering_domain_model: model } },
      authenticated: wmbus.Authenticated,
    };
  }

  /**
   * The telegram itself, or for the last AFL fragment of a message the reassembled message. Earlier
   * fragments end as parse_failed with reason afl_fragment: the reading comes with the last one.
   */
  private wholeMessage(req: ParseRequest): string {
    const fragment = readFragment(req.rawHex);
    if (fragment === null) return req.rawHex;
    const r = this.fragments.add(fragment);
    if (r.kind === 'complete') return r.rawHex;
    const meter = req.header?.meterId ?? 'unknown';
    throw new ParseError('parse_failed', r.kind === 'error'
      ? `afl_fragment: fragment ${fragment.fid} of meter ${meter}: ${r.error}`
      : `afl_fragment: fragment ${fragment.fid} of meter ${meter} is held until the rest of the message arrives (at most ${this.fragments.ttlSeconds} s); the reading comes with the last fragment`,
    { reason: 'afl_fragment' });
  }
}

