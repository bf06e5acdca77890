import type { Logger } from '../observability/logger.js';
import { ParseError, type ParseRequest, type ParseResult, type Parser } from './parser.js';

/**
 * PARSER=auto: Lobaro first; the built-in decoder while the Lobaro circuit is
 * open or paused, or after its last retry failed.
 * The payload then says "parser":"local".
 */
export class FallbackParser implements Parser {
  readonly name = 'auto';

  constructor(
    private readonly primary: Parser,
    private readonly fallback: Parser,
    private readonly log: Logger,
  ) {}

  async parse(req: ParseRequest): Promise<ParseResult> {
    try {
      return await this.primary.parse(req);
    } catch (err) {
      if (!(err instanceof ParseError) || !shouldFallBack(err, req.finalAttempt)) throw err;
      this.log.debug({ ingestId: req.ingestId, code: err.code }, 'Lobaro unavailable; decoding locally');
      try {
        return await this.fallback.parse(req);
      } catch (localErr) {
        // Lobaro only paused (429, circuit open): what the built-in decoder cannot read waits for Lobaro
        // instead of ending as an error — a 429 never ends a telegram (README).
        if (!err.consumesAttempt) throw err;
        throw localErr;
      }
    }
  }
}

function shouldFallBack(err: ParseError, finalAttempt: boolean): boolean {
  // Circuit open or rate-limit pause: Lobaro is not usable right now.
  if (!err.consumesAttempt) return true;
  // Otherwise Lobaro keeps its retries; the last failed one falls back.
  return err.retryable && finalAttempt;
}
