import type { GatewayLiveness, GatewayTransition } from '../liveness/gateway-state.js';
import type { MeterLiveness, MeterSeen, MeterStatus, SeenResult, StalePolicy } from '../liveness/meter-state.js';
import type {
  AuditRecord, BatchInsert, BatchInsertResult, Depths, FinishJob, InsertResult, Job, JobLease, KeyProblemKind, KeyProblemMeter, KeyProblemReport, MappingVersion, MeterMatch, MeterReading,
  MeterKeyRecord, NewTelegram, OutboxMessage, OutboxRow, Page, ParserState, ReplayResult, Reception, RetryJob, StoreLink, TelegramFilter,
  TelegramRecord, GatewayStats,
} from './store.js';

/**
 * The store cut by role: each consumer is handed only the roles it uses, so it is plain which parts
 * of the process write (and therefore which the SQLite writer thread must own). TelegramStore is all of them.
 */

/** Opening, closing and sharing the database. */
export interface StoreLifecycle {
  /** Opens the database and runs migrations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  ping(): Promise<void>;
  /**
   * For another thread of this process (the pipeline thread): a link to this store's database,
   * to pass to createStore there. Undefined when that thread opens its own connections (PostgreSQL)
   * or cannot share it (an in-memory SQLite database: the pipeline then runs inline).
   */
  shareWithThread(): StoreLink | undefined;
  /** Links handed out before are dead (the SQLite writer thread was restarted): share again. */
  onRelink(listener: () => void): () => void;
  /** In the other thread: use this new link (after onRelink fired on the sharing side). */
  relink?(link: StoreLink): void;
}

/** The request path: durable writes before the 202, and the depths it refuses on. */
export interface TelegramIntake {
  /**
   * Writes the telegram and its raw MQTT message in one transaction. With a
   * dedup window, a repeat of the same dedup hash inside the window writes
   * nothing and returns the first ingest id.
   */
  insertTelegram(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult>;
  /**
   * A batch upload in one transaction: every item as insertTelegram, in order, and each client_id
   * remembered for `clientIdTtlMs` with its answer (a retried upload gets the same ingest ids back).
   */
  insertTelegrams(items: BatchInsert[], dedupWindowMs: number | null, clientIdTtlMs: number): Promise<BatchInsertResult[]>;
  /**
   * Readies the intake before the first request, so the first accepts after a start do not pay for
   * it (SQLite: reads the dedup window of stored telegrams into memory).
   */
  prepareIntake(dedupWindowMs: number | null): Promise<void>;
  depths(): Promise<Depths>;
}

/** Claimed, fenced jobs for the workers. */
export interface JobQueue {
  /** Claims up to `limit` runnable jobs (queued and due, or with an expired lease). */
  claimJobs(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<Job[]>;
  renewLeases(ingestIds: string[], lockedBy: string, until: number): Promise<void>;
  /**
   * Puts a claimed job back to queued (retry later, or unfinished at shutdown).
   * Fenced: false, and nothing written, when the caller no longer holds this lease.
   */
  retryJob(lease: JobLease, retry: RetryJob): Promise<boolean>;
  /** Final state + parse result + outgoing messages, one transaction. Fenced like retryJob. */
  finishJob(lease: JobLease, finish: FinishJob): Promise<boolean>;
  /** Earliest next_attempt_at of a queued job, for the dispatcher's sleep. */
  nextDueAt(): Promise<number | null>;
  /**
   * Calls `listener` when another instance enqueued work (PostgreSQL LISTEN/NOTIFY).
   * SQLite is single-process and never calls it. Returns an unsubscribe function.
   */
  onWorkAvailable(listener: () => void): () => void;
}

/** Messages waiting for the broker, relayed at least once. */
export interface Outbox {
  claimOutbox(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<OutboxRow[]>;
  /** Deletes acknowledged messages and stamps parse_results.published_at. */
  markPublished(ids: number[], now: number): Promise<void>;
  releaseOutbox(ids: number[]): Promise<void>;
  /** Messages not tied to a telegram (bridge events, cleared discovery configs), published by the outbox relay. */
  enqueueMessages(messages: OutboxMessage[], now: number): Promise<void>;
}

/** Per-meter AES keys (as stored: encrypted at rest when configured). */
export interface MeterKeys {
  getMeterKey(meterId: string): Promise<string | undefined>;
  putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void>;
  listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>>;
  getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined>;
  /** Returns false when there was no such key. */
  deleteMeterKey(meterId: string): Promise<boolean>;
}

/** The "keys needed" list an operator works through. */
export interface KeyProblems {
  /**
   * Upserts the "key problems" list: a telegram of this meter did not decrypt, for this reason.
   * One entry per meter holding its latest problem; count and first_seen restart when the kind changes.
   * `key_missing` is skipped when the meter's key was stored since the caller looked it up.
   * At most KEY_MISSING_GATEWAYS_MAX gateways are kept per meter (the first ones seen).
   */
  recordKeyProblem(report: KeyProblemReport): Promise<void>;
  /**
   * Bounds the "key problems" list: drops entries last seen before `before`, then the longest unseen
   * beyond `maxEntries`, with their gateways. Returns how many entries left.
   */
  pruneKeyProblems(before: number, maxEntries: number): Promise<number>;
  /**
   * Newest last_seen first; `problem` null = every kind. A meter leaves the list when putMeterKey
   * stores a key for it (a telegram that then still fails puts it back with the new reason).
   */
  listKeyProblems(problem: KeyProblemKind | null, limit: number, cursor: string | null): Promise<Page<KeyProblemMeter>>;
  /** Entries per kind (every kind present, 0 when none). */
  countKeyProblems(): Promise<Record<KeyProblemKind, number>>;
}

/** Versioned mapping documents (version 1 = the MAPPINGS_FILE content at first start). */
export interface Mappings {
  getActiveMapping(): Promise<MappingVersion | undefined>;
  listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>>;
  /** Stores a new version and makes it active; returns it. */
  putMapping(json: string, now: number): Promise<MappingVersion>;
  /** Returns undefined when the version does not exist. */
  activateMapping(version: number): Promise<MappingVersion | undefined>;
}

/** Looking into processed telegrams and re-running them. */
export interface TelegramQueries {
  /** The job's own reception and every reception merged into it (DEDUP_SCOPE=global), in no particular order. */
  listReceptions(ingestId: string): Promise<Reception[]>;
  /** The newest `done` telegram's reading of each given meter (meters without one are left out). */
  latestReadings(meterIds: string[]): Promise<MeterReading[]>;
  /** A meter's readings accepted in [since, until), newest first, at most `limit` (stored telegrams, so bounded by RETENTION_DAYS). */
  listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]>;
  getTelegram(ingestId: string): Promise<TelegramRecord | undefined>;
  /** Newest first. */
  listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>>;
  /**
   * Re-queues up to `limit` matching finished telegrams (status done/error), oldest first: attempts 0,
   * due now, replay flag set. Says how many matched beyond the limit, and which re-queued ones have
   * no key any more (the key sent with the telegram was deleted when it finished, and the key store
   * has none for its meter).
   */
  replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult>;
  /** Per gateway over telegrams created at or after `since`. */
  gatewayStats(since: number, now: number): Promise<GatewayStats[]>;
}

/** Who changed what through the admin API. */
export interface AuditLog {
  insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void>;
  /** Newest first. */
  listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>>;
}

/** Small named values shared by all instances. */
export interface Settings {
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
}

/** Lobaro circuit and 429 pause, shared by all instances on one database. */
export interface ParserStateStore {
  getParserState(): Promise<ParserState>;
  /** Raises each given field to at least the given value (never lowers it: another instance may have set a later time). */
  raiseParserState(patch: Partial<ParserState>): Promise<void>;
  /** Sets openUntil back to 0 (after a successful probe). */
  closeCircuit(): Promise<void>;
}

/** Meter liveness (issue 13). */
export interface MeterRegistry {
  /**
   * One more reception of a meter, in one transaction: learned interval, gateways, last error, status.
   * `back` says the meter was stale before. `intervalMs` is the learned interval after this reception.
   */
  recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<SeenResult>;
  /**
   * Marks up to `limit` meters whose stale_at passed as `stale` and returns them. Every meter is
   * returned once per silence. PostgreSQL: one instance at a time (transaction advisory lock); an
   * instance that does not get the lock returns [] and leaves the work to the holder.
   */
  markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]>;
  /** By meter id; `status` null = all; `idPrefix` keeps meters whose id starts with it (case-sensitive). */
  listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>>;
  /** What is known of each given id (liveness, key problem, stored key): one entry per id, in order, duplicates kept. */
  matchMeters(meterIds: string[]): Promise<MeterMatch[]>;
  countMetersByStatus(): Promise<Record<MeterStatus, number>>;
  getMeter(meterId: string): Promise<MeterLiveness | undefined>;
  /** Deletes the meter's liveness row; false when there was none. */
  deleteMeter(meterId: string): Promise<boolean>;
}

/** Retention: expired dedup entries and old finished telegrams. */
export interface Housekeeping {
  /** Drops expired dedup entries, merge claims and batch client ids; returns how many. */
  purgeDedup(now: number): Promise<number>;
  /**
   * Deletes up to `limit` finished telegrams (done/error) accepted before `before`, with their
   * parse results (retention). Unfinished telegrams are never deleted. Returns how many.
   */
  purgeFinished(before: number, limit: number): Promise<number>;
}

/** Gateway liveness (issue 12). */
export interface GatewayRegistry {
  /**
   * One evaluation, one transaction: folds the telegrams accepted at or after `scanSince` into each
   * gateway's last seen, moves gateways whose status is no longer right (silent after `silentMs` without
   * a telegram, online again after one) and queues their messages (transitionMessages) in the outbox.
   * Each transition is returned once. PostgreSQL: one instance at a time (transaction advisory lock);
   * an instance that does not get the lock gets null and nothing changed (its scan window is still to do).
   */
  checkGateways(scanSince: number, now: number, silentMs: number): Promise<GatewayTransition[] | null>;
  /** Known gateways by id, at most `limit`. */
  listGateways(limit: number): Promise<GatewayLiveness[]>;
}

/**
 * The roles a backend composes its store of (all but the lifecycle, which the store itself implements).
 * Each backend has one class per role, in a file of the same name in sqlite/ and postgres/.
 */
export interface StoreRoles {
  intake: TelegramIntake;
  jobQueue: JobQueue;
  outbox: Outbox;
  meterKeys: MeterKeys;
  keyProblems: KeyProblems;
  mappings: Mappings;
  telegramQueries: TelegramQueries;
  auditLog: AuditLog;
  settings: Settings;
  parserState: ParserStateStore;
  meterRegistry: MeterRegistry;
  housekeeping: Housekeeping;
  gatewayRegistry: GatewayRegistry;
}

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every method of every role in R, as one type (what bindRoles puts on a store). */
export type RoleMethods<R> = Intersection<R[keyof R]>;
