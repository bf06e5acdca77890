import type pg from 'pg';
import type { ParserStateStore } from '../roles.js';
import type { ParserState } from '../store.js';
import { rows } from './pg-query.js';

export class PostgresParserState implements ParserStateStore {
  constructor(private readonly pool: () => pg.Pool) {}

  async getParserState(): Promise<ParserState> {
    const [row] = await rows(this.pool(), 'SELECT open_until, paused_until FROM parser_state WHERE id = 1');
    return { openUntil: Number(row?.open_until ?? 0), pausedUntil: Number(row?.paused_until ?? 0) };
  }

  /** GREATEST in the database: two instances raising at once both keep the later time. */
  async raiseParserState(patch: Partial<ParserState>): Promise<void> {
    await this.pool().query(
      'UPDATE parser_state SET open_until = GREATEST(open_until, $1), paused_until = GREATEST(paused_until, $2) WHERE id = 1',
      [patch.openUntil ?? 0, patch.pausedUntil ?? 0],
    );
  }

  async closeCircuit(): Promise<void> {
    await this.pool().query('UPDATE parser_state SET open_until = 0 WHERE id = 1');
  }
}
