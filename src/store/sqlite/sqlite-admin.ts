import type Database from 'better-sqlite3';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type {
  AuditRecord, GatewayStats, KeyProblemKind, KeyProblemMeter, KeyProblemReport, MappingVersion, MeterKeyRecord, Page, ParserState, ReplayResult, TelegramFilter, TelegramRecord,
} from '../store.js';
import { KEY_MISSING_GATEWAYS_MAX, KEY_PROBLEM_DETAIL_MAX } from '../store.js';
import {
  KEY_PROBLEM_COLUMNS, TELEGRAM_RECORD_COLUMNS, keyProblemCounts, toAudit, toKeyProblem, toMapping, toMeterKey, toTelegramRecord, type Row,
} from '../store-rows.js';
import { telegramFilter } from '../telegram-filter.js';

const MAPPING_COLUMNS = 'version, json, created_at, active';

const KEY_PROBLEM_SELECT = `SELECT ${KEY_PROBLEM_COLUMNS},
    (SELECT json_group_array(g.gateway_id) FROM key_missing_gateways g WHERE g.meter_id = k.meter_id) AS gateways
  FROM key_missing k`;

function prepare(db: Database.Database) {
  return {
    listKeys: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys ORDER BY meter_id LIMIT ?'),
    listKeysAfter: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id > ? ORDER BY meter_id LIMIT ?'),
    getKeyRecord: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id = ?'),
    deleteKey: db.prepare('DELETE FROM meter_keys WHERE meter_id = ?'),
    // The NOT EXISTS guard keeps a meter off the list as key_missing when its key was stored
    // between the failed lookup and this call. All SET expressions read the old row.
    upsertProblem: db.prepare(
      `INSERT INTO key_missing (meter_id, manufacturer, problem, detail, first_seen, last_seen, count)
       SELECT @meterId, @manufacturer, @problem, @detail, @now, @now, 1
       WHERE @problem <> 'key_missing' OR NOT EXISTS (SELECT 1 FROM meter_keys WHERE meter_id = @meterId)
       ON CONFLICT (meter_id) DO UPDATE SET manufacturer = COALESCE(excluded.manufacturer, key_missing.manufacturer),
         first_seen = CASE WHEN key_missing.problem = excluded.problem THEN MIN(key_missing.first_seen, excluded.first_seen) ELSE excluded.first_seen END,
         last_seen = MAX(key_missing.last_seen, excluded.last_seen),
         count = CASE WHEN key_missing.problem = excluded.problem THEN key_missing.count + 1 ELSE 1 END,
         problem = excluded.problem, detail = excluded.detail`,
    ),
    addMissingGateway: db.prepare(
      `INSERT INTO key_missing_gateways (meter_id, gateway_id)
       SELECT @meterId, @gatewayId WHERE EXISTS (SELECT 1 FROM key_missing WHERE meter_id = @meterId)
         AND (SELECT COUNT(*) FROM key_missing_gateways WHERE meter_id = @meterId) < ${KEY_MISSING_GATEWAYS_MAX}
       ON CONFLICT DO NOTHING`,
    ),
    clearMissing: db.prepare('DELETE FROM key_missing WHERE meter_id = ?'),
    clearMissingGateways: db.prepare('DELETE FROM key_missing_gateways WHERE meter_id = ?'),
    listProblems: db.prepare(`${KEY_PROBLEM_SELECT} ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsAfter: db.prepare(`${KEY_PROBLEM_SELECT} WHERE (k.last_seen, k.meter_id) < (?, ?) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsOf: db.prepare(`${KEY_PROBLEM_SELECT} WHERE k.problem = ? ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`),
    listProblemsOfAfter: db.prepare(
      `${KEY_PROBLEM_SELECT} WHERE k.problem = ? AND (k.last_seen, k.meter_id) < (?, ?) ORDER BY k.last_seen DESC, k.meter_id DESC LIMIT ?`,
    ),
    countProblems: db.prepare('SELECT problem, COUNT(*) AS n FROM key_missing GROUP BY problem'),
    pruneMissingOld: db.prepare('DELETE FROM key_missing WHERE last_seen < ?'),
    pruneMissingOver: db.prepare(
      'DELETE FROM key_missing WHERE meter_id IN (SELECT meter_id FROM key_missing ORDER BY last_seen DESC, meter_id DESC LIMIT -1 OFFSET ?)',
    ),
    pruneMissingGateways: db.prepare('DELETE FROM key_missing_gateways WHERE meter_id NOT IN (SELECT meter_id FROM key_missing)'),
    replayOne: db.prepare(
      `UPDATE telegrams SET status = 'queued', attempts = 0, next_attempt_at = ?, replay = 1, error_code = NULL,
         last_error = NULL, finished_at = NULL, locked_by = NULL, locked_until = NULL WHERE ingest_id = ?`,
    ),
    dropResult: db.prepare('DELETE FROM parse_results WHERE ingest_id = ?'),
    activeMapping: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE active = 1`),
    getMapping: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version = ?`),
    listMappings: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings ORDER BY version DESC LIMIT ?`),
    listMappingsAfter: db.prepare(`SELECT ${MAPPING_COLUMNS} FROM mappings WHERE version < ? ORDER BY version DESC LIMIT ?`),
    insertMapping: db.prepare(
      `INSERT INTO mappings (version, json, created_at, active)
       SELECT COALESCE(MAX(version), 0) + 1, ?, ?, 1 FROM mappings RETURNING ${MAPPING_COLUMNS}`,
    ),
    activate: db.prepare('UPDATE mappings SET active = (version = ?) WHERE active = 1 OR version = ?'),
    insertAudit: db.prepare('INSERT INTO audit (at, action, target, actor, details) VALUES (?, ?, ?, ?, ?)'),
    listAudit: db.prepare('SELECT id, at, action, target, actor, details FROM audit ORDER BY id DESC LIMIT ?'),
    listAuditAfter: db.prepare('SELECT id, at, action, target, actor, details FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?'),
    gatewayStats: db.prepare(
      `SELECT gateway_id, MAX(created_at) AS last_seen, COUNT(*) AS count, AVG(rssi_dbm) AS mean_rssi,
         SUM(CASE WHEN created_at > @minuteAgo AND created_at <= @now THEN 1 ELSE 0 END) AS last_minute
       FROM telegrams WHERE created_at >= @since GROUP BY gateway_id ORDER BY gateway_id`,
    ),
    getSetting: db.prepare('SELECT value FROM settings WHERE name = ?').pluck(),
    putSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    parserState: db.prepare('SELECT open_until, paused_until FROM parser_state WHERE id = 1'),
    raiseParserState: db.prepare(
      'UPDATE parser_state SET open_until = MAX(open_until, ?), paused_until = MAX(paused_until, ?) WHERE id = 1',
    ),
    closeCircuit: db.prepare('UPDATE parser_state SET open_until = 0 WHERE id = 1'),
  };
}

/**
 * Admin queries of the SQLite store (keys, keys needed, mapping versions,
 * telegram list and replay, audit, gateways, settings, parser state), kept out
 * of the queue/outbox hot path in sqlite-store.ts. SqliteStore delegates here.
 */
export class SqliteAdmin {
  private readonly s: ReturnType<typeof prepare>;
  /** listTelegrams/replay statements by SQL text: one per filter combination. */
  private readonly dynamic = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.s = prepare(db);
  }

  listMeterKeys(limit: number, cursor: string | null): Page<MeterKeyRecord> {
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? this.s.listKeys.all(n)
      : this.s.listKeysAfter.all(decodeCursor(cursor, ['string'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toMeterKey, (r) => [r.meter_id as string]);
  }

  getMeterKeyRecord(meterId: string): MeterKeyRecord | undefined {
    const row = this.s.getKeyRecord.get(meterId) as Row | undefined;
    return row ? toMeterKey(row) : undefined;
  }

  deleteMeterKey(meterId: string): boolean {
    return this.s.deleteKey.run(meterId).changes > 0;
  }

  /** Called inside putMeterKey's transaction: a meter with a key is no longer "needed". */
  clearKeyMissing(meterId: string): void {
    this.s.clearMissing.run(meterId);
    this.s.clearMissingGateways.run(meterId);
  }

  recordKeyProblem(r: KeyProblemReport): void {
    this.db.transaction(() => {
      this.s.upsertProblem.run({
        meterId: r.meterId, manufacturer: r.manufacturer, problem: r.problem, detail: r.detail.slice(0, KEY_PROBLEM_DETAIL_MAX), now: r.now,
      });
      this.s.addMissingGateway.run({ meterId: r.meterId, gatewayId: r.gatewayId });
    })();
  }

  listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Page<KeyProblemMeter> {
    const n = pageLimit(limit) + 1;
    let rows: Row[];
    if (cursor === null) rows = (problem === null ? this.s.listProblems.all(n) : this.s.listProblemsOf.all(problem, n)) as Row[];
    else {
      const [lastSeen, meterId] = decodeCursor(cursor, ['number', 'string'] as const);
      rows = (problem === null ? this.s.listProblemsAfter.all(lastSeen, meterId, n) : this.s.listProblemsOfAfter.all(problem, lastSeen, meterId, n)) as Row[];
    }
    return toPage(rows, limit, toKeyProblem, (r) => [r.last_seen as number, r.meter_id as string]);
  }

  pruneKeyProblems(before: number, maxEntries: number): number {
    return this.db.transaction(() => {
      const n = this.s.pruneMissingOld.run(before).changes + this.s.pruneMissingOver.run(maxEntries).changes;
      if (n > 0) this.s.pruneMissingGateways.run();
      return n;
    })();
  }

  countKeyProblems(): Record<KeyProblemKind, number> {
    return keyProblemCounts(this.s.countProblems.all() as Row[]);
  }

  getActiveMapping(): MappingVersion | undefined {
    const row = this.s.activeMapping.get() as Row | undefined;
    return row ? toMapping(row) : undefined;
  }

  listMappingVersions(limit: number, cursor: string | null): Page<MappingVersion> {
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? this.s.listMappings.all(n)
      : this.s.listMappingsAfter.all(decodeCursor(cursor, ['number'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toMapping, (r) => [r.version as number]);
  }

  putMapping(json: string, now: number): MappingVersion {
    return this.db.transaction(() => {
      this.s.activate.run(0, 0); // deactivates all (versions start at 1)
      return toMapping(this.s.insertMapping.get(json, now) as Row);
    })();
  }

  activateMapping(version: number): MappingVersion | undefined {
    return this.db.transaction(() => {
      if (!this.s.getMapping.get(version)) return undefined;
      this.s.activate.run(version, version);
      return toMapping(this.s.getMapping.get(version) as Row);
    })();
  }

  listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Page<TelegramRecord> {
    const params: unknown[] = [];
    const param = (v: unknown): string => {
      params.push(v);
      return '?';
    };
    let where = telegramFilter(filter, param);
    if (cursor !== null) {
      const [createdAt, ingestId] = decodeCursor(cursor, ['number', 'string'] as const);
      where += ` AND (t.created_at, t.ingest_id) < (${param(createdAt)}, ${param(ingestId)})`;
    }
    const sql = `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id
      WHERE ${where} ORDER BY t.created_at DESC, t.ingest_id DESC LIMIT ${param(pageLimit(limit) + 1)}`;
    const rows = this.statement(sql).all(...params) as Row[];
    return toPage(rows, limit, toTelegramRecord, (r) => [r.created_at as number, r.ingest_id as string]);
  }

  /**
   * Also drops the old parse result, so a replayed telegram reads as unfinished
   * (parsed null) until the new result is written.
   */
  replayTelegrams(filter: TelegramFilter, now: number, limit: number): ReplayResult {
    const params: unknown[] = [];
    const param = (v: unknown): string => {
      params.push(v);
      return '?';
    };
    const where = `t.status IN ('done', 'error') AND ${telegramFilter(filter, param)}`;
    const pick = this.statement(
      `SELECT t.ingest_id, t.raw_hex, (t.key_hex IS NULL AND NOT EXISTS (SELECT 1 FROM meter_keys k WHERE k.meter_id = t.meter_id)) AS keyless
       FROM telegrams t WHERE ${where} ORDER BY t.created_at, t.ingest_id LIMIT ?`,
    );
    const count = this.statement(`SELECT COUNT(*) AS n FROM telegrams t WHERE ${where}`);
    return this.db.transaction(() => {
      const picked = pick.all(...params, limit) as Row[];
      const keyless: ReplayResult['keyless'] = [];
      for (const r of picked) {
        this.s.dropResult.run(r.ingest_id);
        this.s.replayOne.run(now, r.ingest_id);
        if (r.keyless) keyless.push({ ingestId: r.ingest_id as string, rawHex: r.raw_hex as string });
      }
      const remaining = Number((count.get(...params) as Row).n);
      return { replayed: picked.length, remaining, keyless };
    })();
  }

  insertAudit(record: Omit<AuditRecord, 'id'>): void {
    const details = record.details === null ? null : JSON.stringify(record.details);
    this.s.insertAudit.run(record.at, record.action, record.target, record.actor, details);
  }

  listAudit(limit: number, cursor: string | null): Page<AuditRecord> {
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? this.s.listAudit.all(n)
      : this.s.listAuditAfter.all(decodeCursor(cursor, ['number'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toAudit, (r) => [r.id as number]);
  }

  gatewayStats(since: number, now: number): GatewayStats[] {
    const rows = this.s.gatewayStats.all({ since, now, minuteAgo: now - 60_000 }) as Row[];
    return rows.map((r) => ({
      gatewayId: r.gateway_id as string,
      lastSeen: r.last_seen as number,
      lastMinute: r.last_minute as number,
      count: r.count as number,
      meanRssiDbm: (r.mean_rssi as number | null) ?? null,
    }));
  }

  getSetting(name: string): string | undefined {
    return (this.s.getSetting.get(name) as string | undefined) ?? undefined;
  }

  putSetting(name: string, value: string): void {
    this.s.putSetting.run(name, value);
  }

  getParserState(): ParserState {
    const row = this.s.parserState.get() as { open_until: number; paused_until: number } | undefined;
    return { openUntil: row?.open_until ?? 0, pausedUntil: row?.paused_until ?? 0 };
  }

  raiseParserState(patch: Partial<ParserState>): void {
    this.s.raiseParserState.run(patch.openUntil ?? 0, patch.pausedUntil ?? 0);
  }

  closeCircuit(): void {
    this.s.closeCircuit.run();
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.dynamic.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.dynamic.set(sql, stmt);
    }
    return stmt;
  }
}
