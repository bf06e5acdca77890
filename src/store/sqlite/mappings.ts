import type Database from 'better-sqlite3';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { Mappings } from '../roles.js';
import type { MappingVersion, Page } from '../store.js';
import { toMapping, type Row } from '../store-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

const MAPPING_COLUMNS = 'version, json, created_at, active';

function prepare(db: Database.Database) {
  return {
    activeMapping: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE active = 1`),
    getMapping: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version = ?`),
    listMappings: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings ORDER BY version DESC LIMIT ?`),
    listMappingsAfter: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version < ? ORDER BY version DESC LIMIT ?`),
    insertMapping: db.prepare(
      `INSERT INTO mappings (version, json, created_at, active)
       SELECT COALESCE(MAX(version), 0) + 1, ?, ?, 1 FROM mappings RETURNING ${MAPPING_COLUMNS}`,
    ),
    activate: db.prepare('UPDATE mappings SET active = (version = ?) WHERE active = 1 OR version = ?'),
  };
}

export class SqliteMappings implements Mappings {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(private readonly conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async getActiveMapping(): Promise<MappingVersion | undefined> {
    const row = this.s().activeMapping.get() as Row | undefined;
    return row ? toMapping(row) : undefined;
  }

  async listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>> {
    const s = this.s();
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? s.listMappings.all(n)
      : s.listMappingsAfter.all(decodeCursor(cursor, ['number'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toMapping, (r) => [r.version as number]);
  }

  async putMapping(json: string, now: number): Promise<MappingVersion> {
    const s = this.s();
    return this.conn.get().transaction(() => {
      s.activate.run(0, 0); // deactivates all (versions start at 1)
      return toMapping(s.insertMapping.get(json, now) as Row);
    })();
  }

  async activateMapping(version: number): Promise<MappingVersion | undefined> {
    const s = this.s();
    return this.conn.get().transaction(() => {
      if (!s.getMapping.get(version)) return undefined;
      s.activate.run(version, version);
      return toMapping(s.getMapping.get(version) as Row);
    })();
  }
}
