import type Database from 'better-sqlite3';
import { toOutboxRow, type Row } from '../store-rows.js';
import type { Outbox } from '../roles.js';
import type { OutboxMessage, OutboxRow } from '../store.js';
import type { GroupCommit } from './group-commit.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** The one insert of an outbox message; intake, job results and gateway transitions write it too. */
export const OUTBOX_INSERT = 'INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** Runs an OUTBOX_INSERT statement for each message. */
export function writeMessages(insert: Database.Statement, messages: OutboxMessage[], now: number): void {
  for (const m of messages) insert.run(m.ingestId, m.kind, m.topic, m.payload, m.qos, m.retain ? 1 : 0, now);
}

function prepare(db: Database.Database) {
  return {
    claimOutbox: db.prepare(
      `UPDATE outbox SET locked_by = ?, locked_until = ?
       WHERE id IN (SELECT id FROM outbox WHERE locked_until < ? ORDER BY id LIMIT ?)
       RETURNING id, ingest_id, kind, topic, payload, qos, retain`,
    ),
    deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ? RETURNING ingest_id, kind'),
    stampPublished: db.prepare('UPDATE parse_results SET published_at = ? WHERE ingest_id = ?'),
    releaseOutbox: db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE id = ?'),
    insertOutbox: db.prepare(OUTBOX_INSERT),
  };
}

/** Outbox bookkeeping goes through the group commit: on its own each call was a commit, about one per telegram. */
export class SqliteOutbox implements Outbox {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly group: GroupCommit,
  ) {
    this.s = conn.statements(prepare);
  }

  async claimOutbox(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<OutboxRow[]> {
    const s = this.s();
    const rows = await this.group.submit(() => s.claimOutbox.all(lockedBy, now + leaseMs, now, limit) as Row[]);
    rows.sort((a, b) => (a.id as number) - (b.id as number));
    return rows.map(toOutboxRow);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    const s = this.s();
    await this.group.submit(() => {
      for (const id of ids) {
        const row = s.deleteOutbox.get(id) as { ingest_id: string | null; kind: string } | undefined;
        if (row?.ingest_id && row.kind !== 'raw') s.stampPublished.run(now, row.ingest_id);
      }
    });
  }

  async releaseOutbox(ids: number[]): Promise<void> {
    const s = this.s();
    await this.group.submit(() => {
      for (const id of ids) s.releaseOutbox.run(id);
    });
  }

  async enqueueMessages(messages: OutboxMessage[], now: number): Promise<void> {
    const s = this.s();
    this.conn.get().transaction(() => writeMessages(s.insertOutbox, messages, now))();
  }
}
