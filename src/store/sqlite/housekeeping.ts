import type Database from 'better-sqlite3';
import type { Housekeeping } from '../roles.js';
import type { DedupIndex } from './dedup-index.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    purgeDedup: db.prepare('DELETE FROM dedup WHERE expires_at <= ?'),
    purgeClientIds: db.prepare('DELETE FROM client_ids WHERE expires_at <= ?'),
    purgeMerges: db.prepare('DELETE FROM merges WHERE expires_at <= ?'),
    purgeResults: db.prepare(
      `DELETE FROM parse_results WHERE ingest_id IN (SELECT ingest_id FROM telegrams
         WHERE created_at < ? AND status IN ('done', 'error', 'merged') ORDER BY created_at LIMIT ?)`,
    ),
    purgeTelegrams: db.prepare(
      `DELETE FROM telegrams WHERE ingest_id IN (SELECT ingest_id FROM telegrams
         WHERE created_at < ? AND status IN ('done', 'error', 'merged') ORDER BY created_at LIMIT ?)`,
    ),
  };
}

export class SqliteHousekeeping implements Housekeeping {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(
    private readonly conn: SqliteConnection,
    /** The intake's in-memory dedup window: its expired entries go too. */
    private readonly dedup: DedupIndex,
  ) {
    this.s = conn.statements(prepare);
  }

  async purgeDedup(now: number): Promise<number> {
    const s = this.s();
    // The dedup table is no longer written (dedup-index.ts); purging it empties what an older version left.
    return this.dedup.purge(now) + s.purgeDedup.run(now).changes + s.purgeClientIds.run(now).changes + s.purgeMerges.run(now).changes;
  }

  async purgeFinished(before: number, limit: number): Promise<number> {
    const s = this.s();
    // Same selection twice inside one transaction: results first, then their telegrams.
    return this.conn.get().transaction(() => {
      s.purgeResults.run(before, limit);
      return s.purgeTelegrams.run(before, limit).changes;
    })();
  }
}
