import { BridgeError } from '../lib/errors.js';
/**
 * A parse failure. `retryable` = another attempt may succeed; `consumesAttempt`
 * = false for pauses the bridge imposes on itself (circuit open, rate-limit
 * wait), so those never burn a telegram's attempts.
 */
export class ParseError extends BridgeError {
    consumesAttempt;
    retryAfterMs;
    httpStatus;
    constructor(code, message, opts = {}) {
        super(code, message, { retryable: opts.retryable ?? false, cause: opts.cause });
        this.consumesAttempt = opts.consumesAttempt ?? true;
        this.retryAfterMs = opts.retryAfterMs;
        this.httpStatus = opts.httpStatus;
    }
}
export function meterFromHeader(header, meterIdHint) {
    return {
        id: meterIdHint ?? header?.meterId ?? null,
        manufacturer: header?.manufacturer ?? null,
        device_type: header?.deviceType ?? null,
        version: header?.version ?? null,
    };
}
