import { BridgeError } from '../lib/errors.js';
import type { MeterInfo, NormalizedValue } from '../publish/payloads.js';
import type { MappingConfig } from '../store/mapping-store.js';
import type { KeyDiagnosis, TelegramHeader } from '../wmbus/index.js';

export interface ParseRequest {
  ingestId: string;
  rawHex: string;
  keyHex: string | null;
  /** The decoder's header parse; null when the header could not be read. */
  header: TelegramHeader | null;
  mappings: MappingConfig;
  /** True when a retryable failure of this attempt ends the job (PARSER=auto falls back then). */
  finalAttempt: boolean;
  /** The key resolver took a plaintext body under an encryption header (ACCEPT_PREDECRYPTED): decode it as it is. */
  predecrypted?: boolean;
  /** Reception time (ISO 8601): DES security mode 3 builds its IV from the date of transmission. */
  rxTime?: string;
}

export interface ParseResult {
  parser: 'lobaro' | 'local';
  meter: MeterInfo;
  values: NormalizedValue[];
  /** Parser-specific payload part, e.g. `{ lobaro: { metering_domain_model } }` or `{ local: { wmbus, metering_domain_model } }`. */
  extra: Record<string, unknown>;
  /** The payload was encrypted and the key decrypted it into one that checked; unset = the caller judges from the key decision. */
  authenticated?: boolean;
}

/** One interface for every way of turning a telegram into values (Lobaro cloud, built-in decoder, fallback). */
export interface Parser {
  readonly name: string;
  parse(req: ParseRequest): Promise<ParseResult>;
}

/** Stable error codes of the error payload (README § Error codes). */
export type ParseErrorCode =
  | 'decrypt_key_missing'
  | 'decrypt_failed'
  | 'lobaro_auth'
  | 'lobaro_rate_limited'
  | 'lobaro_timeout'
  | 'lobaro_unavailable'
  | 'lobaro_bad_request'
  | 'parse_failed'
  /** Not the parser's: the telegram was claimed JOB_MAX_CLAIMS times without an outcome (the process died each time). */
  | 'claim_limit';

/** Finer cause within a code, published as `error.reason` (README § Error codes). */
/** `afl_fragment`: an AFL fragment, held until its message is complete (or a fragment that could not be joined). */
export type ParseErrorReason = 'unexpected_plaintext' | 'afl_fragment';

/**
 * A parse failure. `retryable` = another attempt may succeed; `consumesAttempt`
 * = false for pauses the bridge imposes on itself (circuit open, rate-limit
 * wait), so those never burn a telegram's attempts.
 */
export class ParseError extends BridgeError {
  declare readonly code: ParseErrorCode;
  readonly consumesAttempt: boolean;
  readonly retryAfterMs: number | undefined;
  readonly httpStatus: number | undefined;
  readonly reason: ParseErrorReason | undefined;
  /** Why the telegram did not decrypt, when the parser could tell: feeds the admin "key problems" list. */
  readonly keyProblem: KeyDiagnosis | undefined;

  constructor(
    code: ParseErrorCode,
    message: string,
    opts: { retryable?: boolean; consumesAttempt?: boolean; retryAfterMs?: number; httpStatus?: number; reason?: ParseErrorReason; keyProblem?: KeyDiagnosis; cause?: unknown } = {},
  ) {
    super(code, message, { retryable: opts.retryable ?? false, cause: opts.cause });
    this.consumesAttempt = opts.consumesAttempt ?? true;
    this.retryAfterMs = opts.retryAfterMs;
    this.httpStatus = opts.httpStatus;
    this.reason = opts.reason;
    this.keyProblem = opts.keyProblem;
  }
}

export function meterFromHeader(header: TelegramHeader | null, meterIdHint: string | null): MeterInfo {
  return {
    id: meterIdHint ?? header?.meterId ?? null,
    manufacturer: header?.manufacturer ?? null,
    device_type: header?.deviceType ?? null,
    version: header?.version ?? null,
  };
}
