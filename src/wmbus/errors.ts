/** Stable error codes of the decoder; callers branch on `code`, never on the message. */
export type WmbusErrorCode =
  | 'invalid_hex'
  | 'too_short'
  | 'too_long'
  | 'crc_error'
  | 'length_mismatch'
  | 'unsupported_frame'
  | 'format_unknown'
  /** The header says encrypted, the body is plaintext, and the caller did not accept pre-decrypted data. */
  | 'unexpected_plaintext'
  | 'decode_failed'
  /** A bug in the decoder (an exception that is not a WmbusError); never the telegram's fault. */
  | 'internal_error';

/**
 * The only error the decoder throws. A telegram never gets better by retrying,
 * so `retryable` is always false.
 */
export class WmbusError extends Error {
  readonly code: WmbusErrorCode;
  readonly retryable = false;
  readonly details?: Record<string, unknown>;

  constructor(code: WmbusErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'WmbusError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}
