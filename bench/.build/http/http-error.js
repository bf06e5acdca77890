import { BridgeError } from '../lib/errors.js';
/** An error answer: status + stable code, rendered as `{"error":{"code","message","details"}}`. */
export class HttpError extends BridgeError {
    statusCode;
    headers;
    constructor(statusCode, code, message, details, headers = {}) {
        super(code, message, details === undefined ? {} : { details: { list: details } });
        this.statusCode = statusCode;
        this.headers = headers;
        this.body = { error: { code, message, ...(details === undefined ? {} : { details }) } };
    }
    body;
}
