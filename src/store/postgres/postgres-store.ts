import { randomUUID } from 'node:crypto';
import type { MeterLiveness, MeterSeen, MeterStatus, StalePolicy } from '../../liveness/meter-state.js';
import { PostgresMeters } from './postgres-meters.js';
import { PostgresGateways } from './postgres-gateways.js';
import type { GatewayLiveness, GatewayTransition } from '../../liveness/gateway-state.js';
import pg from 'pg';
import { BridgeError } from '../../lib/errors.js';
import type { Logger } from '../../observability/logger.js';
import type {
  AuditRecord, BatchInsert, BatchInsertResult, Depths, FinishJob, GatewayStats, InsertResult, Job, KeyProblemKind, KeyProblemMeter, KeyProblemReport, MappingVersion, MeterMatch, MeterReading, MeterKeyRecord, NewTelegram,
  MergeSpec, OutboxMessage, OutboxRow, Page, ParserState, Reception, ReplayResult, RetryJob, JobLease, TelegramFilter, TelegramRecord, TelegramStore,
} from '../store.js';
import { toJob, toOutboxRow, toReception, toTelegramRecord, type Row } from '../store-rows.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresAdmin } from './postgres-admin.js';
import { postgresConnection, type PostgresConnection } from './postgres-config.js';
import { SQL } from './postgres-sql.js';
import { WorkListener } from './work-listener.js';

/** A pool or one checked-out client (inside a transaction). */
type Queryable = Pick<pg.PoolClient, 'query'>;

/** Key of the session advisory lock held while migrating ("omsb" in ASCII). */
const MIGRATION_LOCK = 0x6f6d7362;

export interface PostgresStoreOptions {
  /** Pool size per instance (default 10). */
  poolSize?: number;
  /** Receives connection errors of idle pool clients and of the LISTEN connection. */
  log?: Logger;
  /** First reconnect delay of the LISTEN connection in ms (default 250, doubled up to 10 s). */
  listenReconnectMs?: number;
}

/**
 * Store for several instances on one PostgreSQL database. Jobs and outbox rows
 * are claimed with leases (`locked_by`, `locked_until`) and SKIP LOCKED, so no
 * two instances work on the same row and a dead instance's rows are taken over
 * once its lease expires. Enqueued work is announced with NOTIFY on
 * `oms_bridge_work`. DATABASE_URL may name a schema: see postgresConnection().
 */
export class PostgresStore implements TelegramStore {
  private readonly connection: PostgresConnection;
  /** Payload of our NOTIFYs, so our own listener skips them. */
  private readonly token = randomUUID();
  private readonly listener: WorkListener;
  private readonly admin: PostgresAdmin;
  private readonly meters: PostgresMeters;
  private readonly gateways: PostgresGateways;
  private db: pg.Pool | undefined;

  constructor(url: string, private readonly opts: PostgresStoreOptions = {}) {
    this.connection = postgresConnection(url);
    this.listener = new WorkListener(this.connection.config, {
      ownToken: this.token,
      reconnectMs: opts.listenReconnectMs,
      onError: (err) => this.opts.log?.warn({ err }, 'PostgreSQL LISTEN connection failed; reconnecting'),
    });
    this.admin = new PostgresAdmin(() => this.pool(), this.token);
    this.meters = new PostgresMeters(() => this.pool());
    this.gateways = new PostgresGateways(() => this.pool());
  }

  async start(): Promise<void> {
    if (this.db) return;
    const pool = new pg.Pool({ ...this.connection.config, max: this.opts.poolSize ?? 10, application_name: 'oms-bridge' });
    // Without a listener an idle client's error (server restart) would crash the process.
    pool.on('error', (err) => this.opts.log?.warn({ err }, 'idle PostgreSQL connection failed'));
    this.db = pool;
    try {
      await this.migrate(pool);
      await this.listener.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const pool = this.db;
    this.db = undefined;
    await this.listener.stop();
    if (pool) await pool.end();
  }

  /** Runs pending migrations under a session advisory lock, so instances starting together migrate once. */
  private async migrate(pool: pg.Pool): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        if (this.connection.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.connection.schema}`);
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations');
        for (let v = (rows[0]?.v ?? 0) + 1; v <= POSTGRES_MIGRATIONS.length; v++) {
          await client.query('BEGIN');
          try {
            await client.query(POSTGRES_MIGRATIONS[v - 1] as string);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {});
            throw new BridgeError('migration_failed', `PostgreSQL migration ${v} failed: ${(err as Error).message}`, { cause: err });
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((err: Error) => {
          broken = err; // the lock goes with the session: destroy the connection
        });
      }
    } finally {
      client.release(broken);
    }
  }

  private pool(): pg.Pool {
    if (!this.db) throw new BridgeError('store_closed', 'store is not started');
    return this.db;
  }

  private async rows(q: { name: string; text: string }, values: unknown[], on: Queryable = this.pool()): Promise<Row[]> {
    return (await on.query<Row>({ ...q, values })).rows;
  }

  async ping(): Promise<void> {
    await this.pool().query('SELECT 1');
  }

  async insertTelegram(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    if (!t.merge) return this.insertOn(this.pool(), t, raw, dedupWindowMs);
    const client = await this.pool().connect();
    try {
      await client.query('BEGIN');
      const result = await this.insertOn(client, t, raw, dedupWindowMs);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async insertTelegrams(items: BatchInsert[], dedupWindowMs: number | null, clientIdTtlMs: number): Promise<BatchInsertResult[]> {
    // Two uploads that share client ids in a different order can deadlock; PostgreSQL aborts one, which goes again.
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool().connect();
      try {
        await client.query('BEGIN');
        const results: BatchInsertResult[] = [];
        for (const item of items) results.push(await this.insertItem(client, item, dedupWindowMs, clientIdTtlMs));
        await client.query('COMMIT');
        return results;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (err as { code?: unknown }).code;
        if ((code === '40P01' || code === '40001') && attempt < 3) continue;
        if (code === '40P01' || code === '40001') throw new BridgeError('store_busy', 'batch kept conflicting with another upload', { retryable: true, cause: err });
        throw err;
      } finally {
        client.release();
      }
    }
  }

  private async insertItem(on: Queryable, { telegram: t, raw, clientId }: BatchInsert, dedupWindowMs: number | null, ttlMs: number): Promise<BatchInsertResult> {
    if (clientId !== null) {
      const [claimed] = await this.rows(SQL.clientClaim, [t.gatewayId, clientId, t.ingestId, t.createdAt + ttlMs, t.createdAt], on);
      if (!claimed) {
        const [first] = await this.rows(SQL.clientGet, [t.gatewayId, clientId], on);
        if (!first) throw new BridgeError('dedup_conflict', 'client_id entry changed under the upload', { retryable: true });
        return { ingestId: first.ingest_id as string, duplicate: first.duplicate === true, repeated: true };
      }
    }
    const result = await this.insertOn(on, t, raw, dedupWindowMs);
    if (clientId !== null && result.duplicate) await this.rows(SQL.clientSetDuplicate, [result.ingestId, t.gatewayId, clientId], on);
    return { ...result, repeated: false };
  }

  private async insertOn(on: Queryable, t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    if (t.merge) return this.insertReception(on, t, t.merge, raw, dedupWindowMs);
    const values: unknown[] = [
      t.ingestId, t.gatewayId, t.rxTime, t.rssiDbm, t.mode, t.rawHex, t.meterId, t.manufacturer, t.dedupHash, t.createdAt, t.keyHex,
      raw.ingestId, raw.kind, raw.topic, raw.payload, raw.qos, raw.retain, this.token,
    ];
    if (dedupWindowMs === null) {
      await this.rows(SQL.insert, values, on);
      return { ingestId: t.ingestId, duplicate: false };
    }
    values.push(t.createdAt + dedupWindowMs);
    // The second round only matters when the first entry expired and was purged between the two statements.
    for (let round = 0; round < 2; round++) {
      const [row] = await this.rows(SQL.insertDedup, values, on);
      if (row?.inserted === 1) return { ingestId: t.ingestId, duplicate: false };
      // ON CONFLICT waited for the other writer, so this newer snapshot sees its entry.
      const [first] = await this.rows(SQL.dedupGet, [t.dedupHash], on);
      if (first) return { ingestId: first.ingest_id as string, duplicate: true };
    }
    throw new BridgeError('dedup_conflict', 'could not record the telegram against a changing dedup entry', { retryable: true });
  }

  /**
   * DEDUP_SCOPE=global, inside the caller's transaction: the per-gateway dedup claim, then the
   * transmission's merge claim. Concurrent first receptions (other instances too) queue on the claim's
   * unique key; exactly one commits as the job, the others read it and join it.
   */
  private async claimOrGet(on: Queryable, claim: { name: string; text: string }, get: { name: string; text: string }, key: string, t: NewTelegram, until: number): Promise<string | null> {
    // The second round only matters when the first entry expired and was purged between the two statements.
    for (let round = 0; round < 2; round++) {
      const [claimed] = await this.rows(claim, [key, t.ingestId, until, t.createdAt], on);
      if (claimed) return null;
      const [first] = await this.rows(get, [key], on);
      if (first) return first.ingest_id as string;
    }
    throw new BridgeError('dedup_conflict', 'could not record the telegram against a changing dedup entry', { retryable: true });
  }

  private async insertReception(on: Queryable, t: NewTelegram, m: MergeSpec, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    if (dedupWindowMs !== null) {
      const earlier = await this.claimOrGet(on, SQL.dedupClaim, SQL.dedupGet, t.dedupHash, t, t.createdAt + dedupWindowMs);
      if (earlier !== null) return { ingestId: earlier, duplicate: true };
    }
    const mergedInto = await this.claimOrGet(on, SQL.mergeClaim, SQL.mergeGet, m.hash, t, m.until);
    await this.rows(SQL.insertReception, [
      t.ingestId, t.gatewayId, t.rxTime, t.rssiDbm, t.mode, t.rawHex, t.meterId, t.manufacturer, t.dedupHash, t.createdAt,
      // A joining reception's key would never be used: the job runs with the first one's.
      mergedInto === null ? t.keyHex : null,
      raw.ingestId, raw.kind, raw.topic, raw.payload, raw.qos, raw.retain, this.token,
      mergedInto === null ? 'queued' : 'merged', mergedInto === null ? m.dueAt : t.createdAt, mergedInto,
    ], on);
    return mergedInto === null ? { ingestId: t.ingestId, duplicate: false } : { ingestId: t.ingestId, duplicate: false, mergedInto };
  }

  async listReceptions(ingestId: string): Promise<Reception[]> {
    return (await this.rows(SQL.receptions, [ingestId])).map(toReception);
  }

  async claimJobs(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<Job[]> {
    const rows = await this.rows(SQL.claimJobs, [lockedBy, now + leaseMs, now, limit]);
    rows.sort((a, b) => (a.created_at as number) - (b.created_at as number));
    return rows.map(toJob);
  }

  async renewLeases(ingestIds: string[], lockedBy: string, until: number): Promise<void> {
    if (ingestIds.length === 0) return;
    await this.rows(SQL.renew, [until, ingestIds, lockedBy]);
  }

  async retryJob(lease: JobLease, r: RetryJob): Promise<boolean> {
    const [row] = await this.rows(SQL.retry, [r.attempts, r.nextAttemptAt, r.errorCode, r.lastError, lease.ingestId, this.token, lease.lockedBy, lease.leaseSeq]);
    return Number(row?.n) === 1;
  }

  async finishJob(lease: JobLease, f: FinishJob): Promise<boolean> {
    const m = f.messages;
    const [row] = await this.rows(SQL.finish, [
      lease.ingestId, f.status, f.attempts, f.errorCode, f.lastError, f.now, f.parsedJson,
      m.map((x) => x.ingestId), m.map((x) => x.kind), m.map((x) => x.topic), m.map((x) => x.payload), m.map((x) => x.qos), m.map((x) => x.retain),
      lease.lockedBy, lease.leaseSeq,
    ]);
    return Number(row?.n) === 1;
  }

  async nextDueAt(): Promise<number | null> {
    const [row] = await this.rows(SQL.nextDue, []);
    return (row?.due as number | null | undefined) ?? null;
  }

  async depths(): Promise<Depths> {
    const [row] = await this.rows(SQL.depths, []);
    return { queue: Number(row?.queue ?? 0), outbox: Number(row?.outbox ?? 0), oldestOutboxAt: (row?.oldest as number | null | undefined) ?? null };
  }

  async getTelegram(ingestId: string): Promise<TelegramRecord | undefined> {
    const [row] = await this.rows(SQL.getTelegram, [ingestId]);
    return row ? toTelegramRecord(row) : undefined;
  }

  async getMeterKey(meterId: string): Promise<string | undefined> {
    const [row] = await this.rows(SQL.getKey, [meterId]);
    return row ? (row.key_hex as string) : undefined;
  }

  async putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void> {
    await this.rows(SQL.putKey, [meterId, manufacturer, keyHex, now]);
  }

  async claimOutbox(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<OutboxRow[]> {
    const rows = await this.rows(SQL.claimOutbox, [lockedBy, now + leaseMs, now, limit]);
    rows.sort((a, b) => (a.id as number) - (b.id as number));
    return rows.map(toOutboxRow);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    if (ids.length > 0) await this.rows(SQL.markPublished, [ids, now]);
  }

  async releaseOutbox(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.rows(SQL.releaseOutbox, [ids]);
  }

  async purgeDedup(now: number): Promise<number> {
    const [row] = await this.rows(SQL.purgeDedup, [now]);
    return Number(row?.n ?? 0);
  }

  async purgeFinished(before: number, limit: number): Promise<number> {
    return (await this.pool().query({ ...SQL.purgeFinished, values: [before, limit] })).rowCount ?? 0;
  }

  /** The pipeline thread opens its own pool. */
  shareWithThread(): undefined {
    return undefined;
  }

  onRelink(_listener: () => void): () => void {
    return () => {};
  }

  /** Listeners run (debounced) when another instance inserted, replayed or retried a job. */
  onWorkAvailable(listener: () => void): () => void {
    return this.listener.add(listener);
  }

  // --- admin: delegated to PostgresAdmin (postgres-admin.ts) ---
  listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>> { return this.admin.listMeterKeys(limit, cursor); }
  getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined> { return this.admin.getMeterKeyRecord(meterId); }
  deleteMeterKey(meterId: string): Promise<boolean> { return this.admin.deleteMeterKey(meterId); }
  recordKeyProblem(report: KeyProblemReport): Promise<void> { return this.admin.recordKeyProblem(report); }
  listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>> {
    return this.admin.listKeyProblems(problem, limit, cursor);
  }
  countKeyProblems(): Promise<Record<KeyProblemKind, number>> { return this.admin.countKeyProblems(); }
  pruneKeyProblems(before: number, maxEntries: number): Promise<number> { return this.admin.pruneKeyProblems(before, maxEntries); }
  getActiveMapping(): Promise<MappingVersion | undefined> { return this.admin.getActiveMapping(); }
  listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>> { return this.admin.listMappingVersions(limit, cursor); }
  putMapping(json: string, now: number): Promise<MappingVersion> { return this.admin.putMapping(json, now); }
  activateMapping(version: number): Promise<MappingVersion | undefined> { return this.admin.activateMapping(version); }
  listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>> {
    return this.admin.listTelegrams(filter, limit, cursor);
  }
  replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult> { return this.admin.replayTelegrams(filter, now, limit); }
  insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void> { return this.admin.insertAudit(record); }
  listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>> { return this.admin.listAudit(limit, cursor); }
  gatewayStats(since: number, now: number): Promise<GatewayStats[]> { return this.admin.gatewayStats(since, now); }
  getSetting(name: string): Promise<string | undefined> { return this.admin.getSetting(name); }
  putSetting(name: string, value: string): Promise<void> { return this.admin.putSetting(name, value); }
  getParserState(): Promise<ParserState> { return this.admin.getParserState(); }
  raiseParserState(patch: Partial<ParserState>): Promise<void> { return this.admin.raiseParserState(patch); }
  closeCircuit(): Promise<void> { return this.admin.closeCircuit(); }

  // --- meter liveness: postgres-meters.ts ---
  recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<{ back: boolean; intervalMs: number | null }> {
    return this.meters.recordMeterSeen(seen, policy);
  }
  markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]> { return this.meters.markStaleMeters(now, limit); }
  listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>> {
    return this.meters.listMeters(status, limit, cursor, idPrefix);
  }
  matchMeters(meterIds: string[]): Promise<MeterMatch[]> { return this.meters.matchMeters(meterIds); }
  latestReadings(meterIds: string[]): Promise<MeterReading[]> { return this.meters.latestReadings(meterIds); }
  listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]> {
    return this.meters.listReadings(meterId, since, until, limit);
  }
  countMetersByStatus(): Promise<Record<MeterStatus, number>> { return this.meters.countMetersByStatus(); }
  getMeter(meterId: string): Promise<MeterLiveness | undefined> { return this.meters.getMeter(meterId); }
  deleteMeter(meterId: string): Promise<boolean> { return this.meters.deleteMeter(meterId); }
  enqueueMessages(messages: OutboxMessage[], now: number): Promise<void> { return this.meters.enqueueMessages(messages, now); }

  // --- gateway liveness: postgres-gateways.ts ---
  checkGateways(scanSince: number, now: number, silentMs: number): Promise<GatewayTransition[] | null> {
    return this.gateways.checkGateways(scanSince, now, silentMs);
  }
  listGateways(limit: number): Promise<GatewayLiveness[]> { return this.gateways.listGateways(limit); }
}
