import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BridgeError } from '../../lib/errors.js';
import type { GatewayLiveness, GatewayTransition } from '../../liveness/gateway-state.js';
import type { MeterLiveness, MeterSeen, MeterStatus, StalePolicy } from '../../liveness/meter-state.js';
import type {
  AuditRecord, BatchInsert, BatchInsertResult, Depths, FinishJob, GatewayStats, InsertResult, Job, KeyProblemKind, KeyProblemMeter, KeyProblemReport, MappingVersion, MeterMatch, MeterReading, MeterKeyRecord, NewTelegram,
  MergeSpec, OutboxMessage, OutboxRow, Page, ParserState, Reception, ReplayResult, RetryJob, JobLease, TelegramFilter, TelegramRecord, TelegramStore,
} from '../store.js';
import { toJob, toOutboxRow, toReception, toTelegramRecord, type Row } from '../store-rows.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.js';
import { Checkpointer } from './checkpointer.js';
import { DedupIndex } from './dedup-index.js';
import { GroupCommit } from './group-commit.js';
import { ProcessLock } from './process-lock.js';
import { SqliteAdmin } from './sqlite-admin.js';
import { SqliteMeters } from './sqlite-meters.js';
import { SqliteGateways } from './sqlite-gateways.js';

/** `sqlite:///./data/bridge.db` → `./data/bridge.db`; `sqlite:///:memory:` → `:memory:`. */
export function sqlitePath(url: string): string {
  return url.replace(/^sqlite:\/\/\/?/, '');
}

export interface SqliteStoreOptions {
  /**
   * - `owner` (default): the only connection of the process: takes the process lock, migrates,
   *   recovers leases of a dead process and runs the checkpointer.
   * - `writer`: the same without the process lock, which the thread that started it holds.
   * - `reader`: a WAL reader next to a writer in another thread; never writes.
   */
  mode?: 'owner' | 'writer' | 'reader';
  /** Requeue leases left by a dead process at start (default true; false when a writer thread is restarted under a live pipeline). */
  recover?: boolean;
  /** SQLITE_MAX_SIZE_MB: writes beyond it fail as storage_full, as on a full disk. */
  maxSizeMb?: number | undefined;
}

/**
 * Single-process store on better-sqlite3. Synchronous calls are fine here: each
 * statement is tens of microseconds, and a round trip through a thread pool
 * would cost more than it saves. WAL + synchronous=NORMAL keeps every committed
 * transaction across a process crash (kill -9); only an OS crash or power loss
 * can lose the last transactions (documented in the README).
 */
export class SqliteStore implements TelegramStore {
  private db: Database.Database | undefined;
  private stmts: SqliteStatements | undefined;
  private adminQueries: SqliteAdmin | undefined;
  private meterQueries: SqliteMeters | undefined;
  private gatewayQueries: SqliteGateways | undefined;
  /** The dedup window (writer modes); see dedup-index.ts. */
  private readonly dedup = new DedupIndex();
  private readonly group = new GroupCommit(() => this.db, 128, this.dedup);
  private lock: ProcessLock | undefined;
  private checkpointer: Checkpointer | undefined;
  /** Called with errors of the background checkpointer (the composition root logs them). */
  onBackgroundError: ((message: string) => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: SqliteStoreOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.db) return;
    const onDisk = this.path !== ':memory:';
    const mode = this.opts.mode ?? 'owner';
    const primary = mode !== 'reader';
    if (onDisk && mode === 'owner') {
      mkdirSync(dirname(this.path), { recursive: true });
      this.lock = new ProcessLock(this.path);
      this.lock.acquire();
    }
    const db = new Database(this.path, { timeout: 1_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Checkpoints run in a background thread (Checkpointer), never on the event loop.
    db.pragma(`wal_autocheckpoint = ${onDisk ? 0 : 1000}`);
    db.pragma('cache_size = -32000');
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = ON');
    if (this.opts.maxSizeMb !== undefined && primary) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor((this.opts.maxSizeMb * 1024 * 1024) / pageSize))}`);
    }
    this.db = db;
    if (primary) this.migrate();
    this.stmts = prepareStatements(db);
    this.adminQueries = new SqliteAdmin(db);
    this.meterQueries = new SqliteMeters(db);
    this.gatewayQueries = new SqliteGateways(db);
    if (!primary) return;
    if (this.opts.recover !== false) {
      // A previous process that died left claimed jobs and outbox rows behind; this
      // process holds the lock, and its pipeline has not started yet, so none of them is being worked on.
      db.prepare("UPDATE telegrams SET status = 'queued', locked_by = NULL, locked_until = NULL WHERE status = 'processing'").run();
      db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE locked_until > 0').run();
    }
    if (onDisk) {
      this.checkpointer = new Checkpointer(this.path, 250, (message) => this.onBackgroundError?.(message));
      this.checkpointer.start();
    }
  }

  async stop(): Promise<void> {
    // Writes already submitted are committed before the database closes.
    if (this.db) this.group.flushAll();
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    this.db?.close();
    this.lock?.release();
    this.lock = undefined;
    this.db = undefined;
    this.stmts = undefined;
    this.adminQueries = undefined;
    this.meterQueries = undefined;
    this.gatewayQueries = undefined;
  }

  private migrate(): void {
    const db = this.conn();
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    for (let v = current + 1; v <= SQLITE_MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(SQLITE_MIGRATIONS[v - 1] as string);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
      })();
    }
  }

  private conn(): Database.Database {
    if (!this.db) throw new BridgeError('store_closed', 'store is not started');
    return this.db;
  }

  private s(): SqliteStatements {
    if (!this.stmts) throw new BridgeError('store_closed', 'store is not started');
    return this.stmts;
  }

  private meters(): SqliteMeters {
    if (!this.meterQueries) throw new BridgeError('store_closed', 'store is not started');
    return this.meterQueries;
  }

  private gateways(): SqliteGateways {
    if (!this.gatewayQueries) throw new BridgeError('store_closed', 'store is not started');
    return this.gatewayQueries;
  }

  private admin(): SqliteAdmin {
    if (!this.adminQueries) throw new BridgeError('store_closed', 'store is not started');
    return this.adminQueries;
  }

  async ping(): Promise<void> {
    this.conn().prepare('SELECT 1').get();
  }

  async insertTelegram(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    this.s(); // store_closed at once, not after a turn
    return this.group.submit(() => this.insertOne(t, raw, dedupWindowMs));
  }

  async insertTelegrams(items: BatchInsert[], dedupWindowMs: number | null, clientIdTtlMs: number): Promise<BatchInsertResult[]> {
    const s = this.s();
    // One group-commit op: the whole batch is one savepoint, so it lands or fails as a unit.
    return this.group.submit(() => items.map(({ telegram: t, raw, clientId }): BatchInsertResult => {
      if (clientId !== null) {
        const claimed = s.clientClaim.get(t.gatewayId, clientId, t.ingestId, t.createdAt + clientIdTtlMs, t.createdAt);
        if (!claimed) {
          const first = s.clientGet.get(t.gatewayId, clientId) as { ingest_id: string; duplicate: number };
          return { ingestId: first.ingest_id, duplicate: first.duplicate === 1, repeated: true };
        }
      }
      const result = this.insertOne(t, raw, dedupWindowMs);
      if (clientId !== null && result.duplicate) s.clientSetDuplicate.run(result.ingestId, t.gatewayId, clientId);
      return { ...result, repeated: false };
    }));
  }

  private insertOne(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): InsertResult {
    const s = this.s();
    if (dedupWindowMs !== null) {
      if (!this.dedup.ready) this.dedup.load(this.recentTelegrams(t.createdAt - dedupWindowMs), dedupWindowMs);
      const first = this.dedup.claim(t.dedupHash, t.ingestId, t.createdAt + dedupWindowMs, t.createdAt);
      if (first !== null) return { ingestId: first, duplicate: true };
    }
    if (t.merge) return this.insertReception(t, t.merge, raw);
    s.insertTelegram.run(t);
    this.insertMessages([raw], t.createdAt);
    return { ingestId: t.ingestId, duplicate: false };
  }

  /** DEDUP_SCOPE=global: the first reception of a transmission gets the job, due after the window; later ones join it. */
  private insertReception(t: NewTelegram, m: MergeSpec, raw: OutboxMessage): InsertResult {
    const s = this.s();
    const first = s.mergeClaim.get(m.hash, t.ingestId, m.until, t.createdAt) !== undefined;
    const mergedInto = first ? null : (s.mergeGet.get(m.hash) as string);
    s.insertReception.run({
      ingestId: t.ingestId, gatewayId: t.gatewayId, rxTime: t.rxTime, rssiDbm: t.rssiDbm, mode: t.mode, rawHex: t.rawHex,
      meterId: t.meterId, manufacturer: t.manufacturer, dedupHash: t.dedupHash, createdAt: t.createdAt,
      // A joining reception's key would never be used: the job runs with the first one's.
      status: first ? 'queued' : 'merged', nextAttemptAt: first ? m.dueAt : t.createdAt, keyHex: first ? t.keyHex : null, mergedInto,
    });
    this.insertMessages([raw], t.createdAt);
    return mergedInto === null ? { ingestId: t.ingestId, duplicate: false } : { ingestId: t.ingestId, duplicate: false, mergedInto };
  }

  /** Telegrams accepted since `since`, oldest first: what the dedup index is rebuilt from. */
  private *recentTelegrams(since: number): Generator<{ dedupHash: string; ingestId: string; createdAt: number }> {
    for (const r of this.s().recentTelegrams.iterate(since) as Iterable<Row>) {
      yield { dedupHash: r.dedup_hash as string, ingestId: r.ingest_id as string, createdAt: r.created_at as number };
    }
  }

  private insertMessages(messages: OutboxMessage[], now: number): void {
    const s = this.s();
    for (const m of messages) s.insertOutbox.run(m.ingestId, m.kind, m.topic, m.payload, m.qos, m.retain ? 1 : 0, now);
  }

  // Claims, lease renewals, meter liveness and outbox bookkeeping go through the group commit too: on
  // their own each was a commit (a WAL append of every page it touched) per call, about one per telegram.
  async claimJobs(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<Job[]> {
    const s = this.s();
    const rows = await this.group.submit(() => s.claimJobs.all(lockedBy, now + leaseMs, now, now, limit) as Row[]);
    // RETURNING order is unspecified; oldest first keeps latency fair.
    rows.sort((a, b) => (a.created_at as number) - (b.created_at as number));
    return rows.map(toJob);
  }

  async renewLeases(ingestIds: string[], lockedBy: string, until: number): Promise<void> {
    const s = this.s();
    await this.group.submit(() => {
      for (const id of ingestIds) s.renew.run(until, id, lockedBy);
    });
  }

  async retryJob(lease: JobLease, r: RetryJob): Promise<boolean> {
    const s = this.s();
    return this.group.submit(
      () => s.retry.run(r.attempts, r.nextAttemptAt, r.errorCode, r.lastError, lease.ingestId, lease.lockedBy, lease.leaseSeq).changes === 1,
    );
  }

  async finishJob(lease: JobLease, f: FinishJob): Promise<boolean> {
    const s = this.s();
    return this.group.submit(() => {
      if (s.finish.run(f.status, f.attempts, f.errorCode, f.lastError, f.now, lease.ingestId, lease.lockedBy, lease.leaseSeq).changes !== 1) return false;
      s.upsertResult.run(lease.ingestId, f.parsedJson, f.now);
      this.insertMessages(f.messages, f.now);
      return true;
    });
  }

  async nextDueAt(): Promise<number | null> {
    return (this.s().nextDue.get() as number | null) ?? null;
  }

  async depths(): Promise<Depths> {
    const s = this.s();
    return {
      queue: s.queueDepth.get() as number,
      outbox: s.outboxDepth.get() as number,
      oldestOutboxAt: (s.oldestOutbox.get() as number | undefined) ?? null,
    };
  }

  async getTelegram(ingestId: string): Promise<TelegramRecord | undefined> {
    const row = this.s().getTelegram.get(ingestId) as Row | undefined;
    return row ? toTelegramRecord(row) : undefined;
  }

  async listReceptions(ingestId: string): Promise<Reception[]> {
    return (this.s().receptions.all(ingestId, ingestId) as Row[]).map(toReception);
  }

  async getMeterKey(meterId: string): Promise<string | undefined> {
    return (this.s().getKey.get(meterId) as string | undefined) ?? undefined;
  }

  async putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void> {
    const s = this.s();
    const admin = this.admin();
    this.conn().transaction(() => {
      s.putKey.run(meterId, manufacturer, keyHex, now);
      admin.clearKeyMissing(meterId);
    })();
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

  async purgeDedup(now: number): Promise<number> {
    const s = this.s();
    // The dedup table is no longer written (dedup-index.ts); purging it empties what an older version left.
    return this.dedup.purge(now) + s.purgeDedup.run(now).changes + s.purgeClientIds.run(now).changes + s.purgeMerges.run(now).changes;
  }

  async purgeFinished(before: number, limit: number): Promise<number> {
    const s = this.s();
    // Same selection twice inside one transaction: results first, then their telegrams.
    return this.conn().transaction(() => {
      s.purgeResults.run(before, limit);
      return s.purgeTelegrams.run(before, limit).changes;
    })();
  }

  /** One connection that no other thread can use (ThreadedSqliteStore is the shareable form). */
  shareWithThread(): undefined {
    return undefined;
  }

  onRelink(_listener: () => void): () => void {
    return () => {};
  }

  /** Single process: the ingest path wakes the local workers directly, so there is never anyone else to hear from. */
  onWorkAvailable(_listener: () => void): () => void {
    return () => {};
  }

  // --- admin: delegated to SqliteAdmin (sqlite-admin.ts) ---
  async listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>> { return this.admin().listMeterKeys(limit, cursor); }
  async getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined> { return this.admin().getMeterKeyRecord(meterId); }
  async deleteMeterKey(meterId: string): Promise<boolean> { return this.admin().deleteMeterKey(meterId); }
  async recordKeyProblem(report: KeyProblemReport): Promise<void> { this.admin().recordKeyProblem(report); }
  async listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>> {
    return this.admin().listKeyProblems(problem, limit, cursor);
  }
  async countKeyProblems(): Promise<Record<KeyProblemKind, number>> { return this.admin().countKeyProblems(); }
  async pruneKeyProblems(before: number, maxEntries: number): Promise<number> { return this.admin().pruneKeyProblems(before, maxEntries); }
  async getActiveMapping(): Promise<MappingVersion | undefined> { return this.admin().getActiveMapping(); }
  async listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>> {
    return this.admin().listMappingVersions(limit, cursor);
  }
  async putMapping(json: string, now: number): Promise<MappingVersion> { return this.admin().putMapping(json, now); }
  async activateMapping(version: number): Promise<MappingVersion | undefined> { return this.admin().activateMapping(version); }
  async listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>> {
    return this.admin().listTelegrams(filter, limit, cursor);
  }
  async replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult> {
    return this.admin().replayTelegrams(filter, now, limit);
  }
  async insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void> { this.admin().insertAudit(record); }
  async listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>> { return this.admin().listAudit(limit, cursor); }
  async gatewayStats(since: number, now: number): Promise<GatewayStats[]> { return this.admin().gatewayStats(since, now); }
  async getSetting(name: string): Promise<string | undefined> { return this.admin().getSetting(name); }
  async putSetting(name: string, value: string): Promise<void> { this.admin().putSetting(name, value); }
  async getParserState(): Promise<ParserState> { return this.admin().getParserState(); }
  async raiseParserState(patch: Partial<ParserState>): Promise<void> { this.admin().raiseParserState(patch); }
  async closeCircuit(): Promise<void> { this.admin().closeCircuit(); }

  // --- meter liveness: sqlite-meters.ts ---
  async recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<{ back: boolean; intervalMs: number | null }> {
    const meters = this.meters();
    return this.group.submit(() => meters.recordMeterSeen(seen, policy));
  }
  async markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]> { return this.meters().markStaleMeters(now, limit); }
  async listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>> {
    return this.meters().listMeters(status, limit, cursor, idPrefix);
  }
  async matchMeters(meterIds: string[]): Promise<MeterMatch[]> { return this.meters().matchMeters(meterIds); }
  async latestReadings(meterIds: string[]): Promise<MeterReading[]> { return this.meters().latestReadings(meterIds); }
  async listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]> {
    return this.meters().listReadings(meterId, since, until, limit);
  }
  async countMetersByStatus(): Promise<Record<MeterStatus, number>> { return this.meters().countMetersByStatus(); }
  async getMeter(meterId: string): Promise<MeterLiveness | undefined> { return this.meters().getMeter(meterId); }
  async deleteMeter(meterId: string): Promise<boolean> { return this.meters().deleteMeter(meterId); }
  async enqueueMessages(messages: OutboxMessage[], now: number): Promise<void> { this.meters().enqueueMessages(messages, now); }

  // --- gateway liveness: sqlite-gateways.ts ---
  async checkGateways(scanSince: number, now: number, silentMs: number): Promise<GatewayTransition[] | null> {
    return this.gateways().checkGateways(scanSince, now, silentMs);
  }
  async listGateways(limit: number): Promise<GatewayLiveness[]> { return this.gateways().listGateways(limit); }
}
