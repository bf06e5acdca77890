import type pg from 'pg';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { Mappings } from '../roles.js';
import type { MappingVersion, Page } from '../store.js';
import { toMapping, type Row } from '../store-rows.js';
import { inTransaction, rows } from './pg-query.js';

const MAPPING_COLUMNS = 'version, json, created_at, active';

export class PostgresMappings implements Mappings {
  constructor(private readonly pool: () => pg.Pool) {}

  async getActiveMapping(): Promise<MappingVersion | undefined> {
    const [row] = await rows(this.pool(), `SELECT ${MAPPING_COLUMNS} FROM mappings WHERE active`);
    return row ? toMapping(row) : undefined;
  }

  async listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>> {
    const n = pageLimit(limit) + 1;
    const found = cursor === null
      ? await rows(this.pool(), `SELECT ${MAPPING_COLUMNS} FROM mappings ORDER BY version DESC LIMIT $1`, [n])
      : await rows(this.pool(), `SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version < $1 ORDER BY version DESC LIMIT $2`,
        [decodeCursor(cursor, ['number'] as const)[0], n]);
    return toPage(found, limit, toMapping, (r) => [r.version as number]);
  }

  /**
   * The table lock serialises putMapping/activateMapping across instances (one
   * active version, versions without gaps) and still lets readers through.
   */
  async putMapping(json: string, now: number): Promise<MappingVersion> {
    return inTransaction(this.pool(), async (c) => {
      await c.query('LOCK TABLE mappings IN SHARE ROW EXCLUSIVE MODE');
      await c.query('UPDATE mappings SET active = FALSE WHERE active');
      const { rows: inserted } = await c.query<Row>(
        `INSERT INTO mappings (version, json, created_at, active)
         SELECT COALESCE(MAX(version), 0) + 1, $1::text, $2::bigint, TRUE FROM mappings RETURNING ${MAPPING_COLUMNS}`,
        [json, now],
      );
      return toMapping(inserted[0] as Row);
    });
  }

  async activateMapping(version: number): Promise<MappingVersion | undefined> {
    if (!Number.isSafeInteger(version)) return undefined;
    return inTransaction(this.pool(), async (c) => {
      await c.query('LOCK TABLE mappings IN SHARE ROW EXCLUSIVE MODE');
      const exists = await c.query('SELECT 1 FROM mappings WHERE version = $1', [version]);
      if (exists.rowCount === 0) return undefined;
      await c.query('UPDATE mappings SET active = (version = $1) WHERE active OR version = $1', [version]);
      const { rows: found } = await c.query<Row>(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version = $1`, [version]);
      return toMapping(found[0] as Row);
    });
  }
}
