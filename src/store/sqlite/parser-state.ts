import type Database from 'better-sqlite3';
import type { ParserStateStore } from '../roles.js';
import type { ParserState } from '../store.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    parserState: db.prepare('SELECT open_until, paused_until FROM parser_state WHERE id = 1'),
    raiseParserState: db.prepare(
      'UPDATE parser_state SET open_until = MAX(open_until, ?), paused_until = MAX(paused_until, ?) WHERE id = 1',
    ),
    closeCircuit: db.prepare('UPDATE parser_state SET open_until = 0 WHERE id = 1'),
  };
}

export class SqliteParserState implements ParserStateStore {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async getParserState(): Promise<ParserState> {
    const row = this.s().parserState.get() as { open_until: number; paused_until: number } | undefined;
    return { openUntil: row?.open_until ?? 0, pausedUntil: row?.paused_until ?? 0 };
  }

  async raiseParserState(patch: Partial<ParserState>): Promise<void> {
    this.s().raiseParserState.run(patch.openUntil ?? 0, patch.pausedUntil ?? 0);
  }

  async closeCircuit(): Promise<void> {
    this.s().closeCircuit.run();
  }
}
