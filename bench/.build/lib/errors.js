/**
 * Base error of the bridge. Code branches on `code`, never on message text
 * (undici's UND_ERR_* pattern); `retryable` tells the worker whether another
 * attempt can succeed.
 */
export class BridgeError extends Error {
    code;
    retryable;
    details;
    constructor(code, message, opts = {}) {
        super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
        this.name = new.target.name;
        this.code = code;
        this.retryable = opts.retryable ?? false;
        if (opts.details)
            this.details = opts.details;
    }
}
export function errorMessage(err) {
    return err instanceof Error ? err.message : String(err);
}
