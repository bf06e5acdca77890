import { BridgeError } from '../lib/errors.js';

/** An error answer: status + stable code, rendered as `{"error":{"code","message","details"}}`. */
export class HttpError extends BridgeError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
    this.body = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  }

  readonly body: { error: { code: string; message: string; details?: unknown } };
}
