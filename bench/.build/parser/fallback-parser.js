import { ParseError } from './parser.js';
/**
 * PARSER=auto: Lobaro first; the built-in decoder while the Lobaro circuit is
 * open or paused, or after its last retry failed.
 * The payload then says "parser":"local".
 */
export class FallbackParser {
    primary;
    fallback;
    log;
    name = 'auto';
    constructor(primary, fallback, log) {
        this.primary = primary;
        this.fallback = fallback;
        this.log = log;
    }
    async parse(req) {
        try {
            return await this.primary.parse(req);
        }
        catch (err) {
            if (!(err instanceof ParseError) || !shouldFallBack(err, req.finalAttempt))
                throw err;
            this.log.debug({ ingestId: req.ingestId, code: err.code }, 'Lobaro unavailable; decoding locally');
            return this.fallback.parse(req);
        }
    }
}
function shouldFallBack(err, finalAttempt) {
    // Circuit open or rate-limit pause: Lobaro is not usable right now.
    if (!err.consumesAttempt)
        return true;
    // Otherwise Lobaro keeps its retries; the last failed one falls back.
    return err.retryable && finalAttempt;
}
