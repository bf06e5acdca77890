import { HTTP_STATUS, type ErrorCode } from '../lib/error-codes.js';
import { BridgeError } from '../lib/errors.js';

/**
 * An error answer: a stable code whose status comes from the one table
 * (HTTP_STATUS), rendered as `{"error":{"code","message","details"}}`.
 */
export class HttpError extends BridgeError {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: { error: { code: ErrorCode; message: string; details?: unknown } };

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(code, message);
    this.statusCode = HTTP_STATUS[code];
    this.headers = opts.headers ?? {};
    this.body = { error: { code, message, ...(opts.details === undefined ? {} : { details: opts.details }) } };
  }
}
