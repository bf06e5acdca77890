import { type Dispatcher, Pool, errors as undiciErrors } from 'undici';
import { parseRetryAfter } from '../../lib/backoff.js';
import { ParseError } from '../parser.js';

export interface LobaroClientOptions {
  baseUrl: string;
  token: string;
  api: 'meterData' | 'mbus';
  timeoutMs: number;
  connections: number;
}

export interface LobaroResponse {
  status: number;
  body: unknown;
  durationMs: number;
}

/**
 * HTTP client for the Lobaro wMbus Parser API (shared/lobaro-api.md §1.3/§1.4),
 * one keep-alive pool. Maps HTTP outcomes to typed ParseErrors; knows nothing
 * about jobs or retries. The request URL carries the AES key, so it is never logged.
 */
export class LobaroClient {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly opts: LobaroClientOptions) {
    const url = new URL(opts.baseUrl);
    this.path = `${url.pathname.replace(/\/+$/, '')}/api/${opts.api}`;
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: opts.timeoutMs,
    });
  }

  /** POST /api/meterData?raw=&key= with the mapping body, or /api/mbus?raw=&key= without a body. */
  async call(rawHex: string, keyHex: string | null, mappings: unknown): Promise<LobaroResponse> {
    const query = new URLSearchParams({ raw: rawHex });
    if (keyHex) query.set('key', keyHex.toUpperCase());
    const started = performance.now();
    const meterData = this.opts.api === 'meterData';
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: `${this.path}?${query.toString()}`,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept: 'application/json',
          ...(meterData ? { 'content-type': 'application/json' } : {}),
        },
        body: meterData ? JSON.stringify(mappings) : null,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw toNetworkError(err);
    }
    const status = res.statusCode;
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw toNetworkError(err);
    }
    const durationMs = performance.now() - started;
    if (status >= 200 && status < 300) {
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        throw new ParseError('parse_failed', 'Lobaro answered with a body that is not JSON', { httpStatus: status });
      }
      return { status, body, durationMs };
    }
    // An error page may echo the request (its URL carries the AES key): the detail goes into MQTT error payloads.
    throw statusError(status, res.headers['retry-after'], withoutSecrets(text, [keyHex, this.opts.token]));
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** `text` with every occurrence of the given secrets (any case) replaced by `[redacted]`. */
function withoutSecrets(text: string, secrets: Array<string | null>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 8) out = out.replace(new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[redacted]');
  }
  return out;
}

function statusError(status: number, retryAfter: string | string[] | undefined, text: string): ParseError {
  const detail = text.slice(0, 200).replace(/\s+/g, ' ');
  if (status === 401 || status === 403) {
    return new ParseError('lobaro_auth', `Lobaro rejected the token (HTTP ${status})`, { retryable: true, consumesAttempt: false, httpStatus: status });
  }
  // A 429, or a 503 that says when to come back, is the parser's state, not
  // the telegram's fault (issue 10): it never uses one of the telegram's attempts.
  if (status === 429) {
    const ms = parseRetryAfter(retryAfter);
    return new ParseError('lobaro_rate_limited', 'Lobaro rate limit (HTTP 429)', {
      retryable: true, consumesAttempt: false, httpStatus: status, ...(ms === undefined ? {} : { retryAfterMs: ms }),
    });
  }
  if (status === 400 || status === 422) {
    return new ParseError('lobaro_bad_request', `Lobaro rejected the telegram (HTTP ${status}): ${detail}`, { httpStatus: status });
  }
  if (status >= 500) {
    const ms = parseRetryAfter(retryAfter);
    return new ParseError('lobaro_unavailable', `Lobaro server error (HTTP ${status})`, {
      retryable: true, consumesAttempt: !(status === 503 && ms !== undefined), httpStatus: status, ...(ms === undefined ? {} : { retryAfterMs: ms }),
    });
  }
  return new ParseError('lobaro_bad_request', `Lobaro answered HTTP ${status}: ${detail}`, { httpStatus: status });
}

function toNetworkError(err: unknown): ParseError {
  const name = (err as { name?: string }).name;
  const timedOut =
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    name === 'TimeoutError';
  if (timedOut) return new ParseError('lobaro_timeout', 'Lobaro did not answer in time', { retryable: true, cause: err });
  return new ParseError('lobaro_unavailable', `Lobaro unreachable: ${(err as Error).message ?? String(err)}`, { retryable: true, cause: err });
}
