import type pg from 'pg';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { AuditLog } from '../roles.js';
import type { AuditRecord, Page } from '../store.js';
import { toAudit } from '../store-rows.js';
import { rows } from './pg-query.js';

export class PostgresAuditLog implements AuditLog {
  constructor(private readonly pool: () => pg.Pool) {}

  async insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void> {
    const details = record.details === null ? null : JSON.stringify(record.details);
    await this.pool().query('INSERT INTO audit (at, action, target, actor, details) VALUES ($1, $2, $3, $4, $5)',
      [record.at, record.action, record.target, record.actor, details]);
  }

  async listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>> {
    const n = pageLimit(limit) + 1;
    const found = cursor === null
      ? await rows(this.pool(), 'SELECT id, at, action, target, actor, details FROM audit ORDER BY id DESC LIMIT $1', [n])
      : await rows(this.pool(), 'SELECT id, at, action, target, actor, details FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2',
        [decodeCursor(cursor, ['number'] as const)[0], n]);
    return toPage(found, limit, toAudit, (r) => [r.id as number]);
  }
}
