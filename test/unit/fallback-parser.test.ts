import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FallbackParser } from '../../src/parser/fallback-parser.js';
import { ParseError, type ParseRequest, type ParseResult, type Parser } from '../../src/parser/parser.js';

const failing = (err: ParseError): Parser => ({ name: 'x', parse: async () => { throw err; } }) as unknown as Parser;
const req = (finalAttempt: boolean) => ({ ingestId: 'i1', finalAttempt }) as unknown as ParseRequest;
const log = pino({ enabled: false });

describe('PARSER=auto (FallbackParser)', () => {
  const paused = new ParseError('lobaro_rate_limited', 'Lobaro answered 429', { retryable: true, consumesAttempt: false, retryAfterMs: 2_000 });
  const unreadable = new ParseError('parse_failed', 'the built-in decoder does not know this format');

  it('a telegram the built-in decoder cannot read during a Lobaro 429 pause waits for Lobaro (no permanent error)', async () => {
    const p = new FallbackParser(failing(paused), failing(unreadable), log);
    await expect(p.parse(req(false))).rejects.toBe(paused);
  });

  it('after Lobaro\'s last retry failed, the built-in decoder\'s answer is final, error or not', async () => {
    const timeout = new ParseError('lobaro_timeout', 'no answer', { retryable: true });
    await expect(new FallbackParser(failing(timeout), failing(unreadable), log).parse(req(true))).rejects.toBe(unreadable);
    const reading = { parser: 'local' } as unknown as ParseResult;
    const local = { name: 'local', parse: async () => reading } as unknown as Parser;
    await expect(new FallbackParser(failing(paused), local, log).parse(req(false))).resolves.toBe(reading);
  });
});
