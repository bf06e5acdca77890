/**
 * The only error the decoder throws. A telegram never gets better by retrying,
 * so `retryable` is always false.
 */
export class WmbusError extends Error {
    code;
    retryable = false;
    details;
    constructor(code, message, details) {
        super(message);
        this.name = 'WmbusError';
        this.code = code;
        if (details !== undefined)
            this.details = details;
    }
}
