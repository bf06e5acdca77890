import type Database from 'better-sqlite3';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { AuditLog } from '../roles.js';
import type { AuditRecord, Page } from '../store.js';
import { toAudit, type Row } from '../store-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    insertAudit: db.prepare('INSERT INTO audit (at, action, target, actor, details) VALUES (?, ?, ?, ?, ?)'),
    listAudit: db.prepare('SELECT id, at, action, target, actor, details FROM audit ORDER BY id DESC LIMIT ?'),
    listAuditAfter: db.prepare('SELECT id, at, action, target, actor, details FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?'),
  };
}

export class SqliteAuditLog implements AuditLog {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void> {
    const details = record.details === null ? null : JSON.stringify(record.details);
    this.s().insertAudit.run(record.at, record.action, record.target, record.actor, details);
  }

  async listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>> {
    const s = this.s();
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? s.listAudit.all(n)
      : s.listAuditAfter.all(decodeCursor(cursor, ['number'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toAudit, (r) => [r.id as number]);
  }
}
