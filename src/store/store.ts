import type { MessagePort } from 'node:worker_threads';
import type { MeterLiveness, MeterSeen, MeterStatus, StalePolicy } from '../liveness/meter-state.js';

/** Durable queue, outbox and key store behind one interface; SQLite and PostgreSQL implement it side by side. */

export type JobStatus = 'queued' | 'processing' | 'done' | 'error';
export type TopicKind = 'raw' | 'reading' | 'error' | 'status' | 'state' | 'discovery' | 'event';

export interface NewTelegram {
  ingestId: string;
  gatewayId: string;
  /** RFC 3339. */
  rxTime: string;
  rssiDbm: number | null;
  mode: string | null;
  /** Lower-case hex. */
  rawHex: string;
  meterId: string | null;
  manufacturer: string | null;
  dedupHash: string;
  /** Key sent with the telegram; deleted once the job is final. */
  keyHex: string | null;
  /** Epoch ms. */
  createdAt: number;
}

export interface Job {
  ingestId: string;
  gatewayId: string;
  rxTime: string;
  rssiDbm: number | null;
  mode: string | null;
  rawHex: string;
  meterId: string | null;
  manufacturer: string | null;
  attempts: number;
  keyHex: string | null;
  replay: boolean;
  /** Who holds the lease and its fence token: a later claim of the same job gets a higher `leaseSeq`. */
  lockedBy: string;
  leaseSeq: number;
  /** Claims since the last orderly outcome (retry or finish); counts the process deaths a telegram caused. */
  claims: number;
}

/** What a worker must still hold for its outcome to count. */
export type JobLease = Pick<Job, 'ingestId' | 'lockedBy' | 'leaseSeq'>;

export interface OutboxMessage {
  ingestId: string | null;
  kind: TopicKind;
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
}

export interface InsertResult {
  ingestId: string;
  duplicate: boolean;
}

/** One telegram of a batch upload. */
export interface BatchInsert {
  telegram: NewTelegram;
  raw: OutboxMessage;
  /** Gateway-chosen id, unique per gateway for CLIENT_ID_TTL: a repeat returns the first answer and writes nothing. */
  clientId: string | null;
}

export interface BatchInsertResult extends InsertResult {
  /** The client_id was seen before: this is the first upload's answer, nothing was written. */
  repeated: boolean;
}

export interface FinishJob {
  status: 'done' | 'error';
  attempts: number;
  errorCode: string | null;
  lastError: string | null;
  parsedJson: string;
  messages: OutboxMessage[];
  now: number;
}

export interface RetryJob {
  attempts: number;
  nextAttemptAt: number;
  errorCode: string | null;
  lastError: string | null;
}

export interface TelegramRecord {
  ingestId: string;
  gatewayId: string;
  meterId: string | null;
  manufacturer: string | null;
  rxTime: string;
  rssiDbm: number | null;
  status: JobStatus;
  attempts: number;
  errorCode: string | null;
  lastError: string | null;
  nextAttemptAt: number;
  createdAt: number;
  finishedAt: number | null;
  /** The published payload (reading or error), null while unfinished. */
  parsed: unknown;
  publishedAt: number | null;
  /** The telegram as received, lower-case hex. */
  rawHex: string;
}

export interface Depths {
  /** Unfinished jobs: queued + in flight. */
  queue: number;
  /** Messages not yet acknowledged by the broker. */
  outbox: number;
  /** created_at (epoch ms) of the oldest unpublished message, null when the outbox is empty. */
  oldestOutboxAt: number | null;
}

/** Filters of the admin telegram list and replay; all optional, combined with AND. Times are epoch ms. */
export interface TelegramFilter {
  status?: JobStatus;
  errorCode?: string;
  meterId?: string;
  gatewayId?: string;
  since?: number;
  until?: number;
}

/** One page of a list; `nextCursor` is opaque (pass it back as `cursor`), null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Gateways remembered per meter on the "keys needed" list. */
export const KEY_MISSING_GATEWAYS_MAX = 16;

export interface ReplayResult {
  replayed: number;
  /** Matching finished telegrams not re-queued because of the limit (replay again to continue). */
  remaining: number;
  /** Re-queued telegrams with neither an inline nor a stored key, with their raw hex (to tell encrypted ones apart). */
  keyless: Array<{ ingestId: string; rawHex: string }>;
}

export interface MeterKeyRecord {
  meterId: string;
  manufacturer: string | null;
  /** As stored (encrypted at rest when KEY_ENCRYPTION_SECRET is set); never leaves the process through the API. */
  keyHex: string;
  updatedAt: number;
}

export interface KeyMissingMeter {
  meterId: string;
  manufacturer: string | null;
  firstSeen: number;
  lastSeen: number;
  count: number;
  gateways: string[];
}

export interface MappingVersion {
  version: number;
  /** The mapping document as JSON text. */
  json: string;
  createdAt: number;
  active: boolean;
}

export interface AuditRecord {
  id: number;
  at: number;
  /** e.g. "key.put", "key.delete", "keys.import", "mapping.put", "mapping.activate", "telegrams.replay". */
  action: string;
  /** e.g. a meter id or a mapping version. */
  target: string | null;
  /** First 16 hex digits of sha256(token); never the token. */
  actor: string;
  details: Record<string, unknown> | null;
}

export interface GatewayStats {
  gatewayId: string;
  lastSeen: number;
  /** Accepted telegrams in the last 60 s before `now`. */
  lastMinute: number;
  /** Accepted telegrams in the window. */
  count: number;
  meanRssiDbm: number | null;
}

/** Lobaro circuit and 429 pause, shared by all instances on one database (epoch ms; 0 = not set). */
export interface ParserState {
  openUntil: number;
  pausedUntil: number;
}

/** A finished reading of a meter: the published payload of a `done` telegram. */
export interface MeterReading {
  meterId: string;
  ingestId: string;
  /** When the telegram was accepted, epoch ms. */
  at: number;
  /** The reading payload as published (schemas/reading.schema.json). */
  parsed: unknown;
}

/** What the bridge knows of a meter id (a key import preview matches its rows with it). */
export interface MeterMatch {
  meterId: string;
  /** Liveness status; null when the meter was never heard (or was deleted). */
  status: MeterStatus | null;
  /** On the "keys needed" list: seen encrypted without a key. */
  keyMissing: boolean;
  /** A key is stored for it. */
  hasKey: boolean;
}

/** What another thread of this process needs to use the same store: a port to the SQLite writer thread. */
export interface StoreLink {
  sqliteWriter: MessagePort;
}

export interface TelegramStore {
  /** Opens the database and runs migrations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  ping(): Promise<void>;

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
  depths(): Promise<Depths>;
  getTelegram(ingestId: string): Promise<TelegramRecord | undefined>;

  getMeterKey(meterId: string): Promise<string | undefined>;
  putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void>;

  claimOutbox(limit: number, now: number, lockedBy: string, leaseMs: number): Promise<OutboxRow[]>;
  /** Deletes acknowledged messages and stamps parse_results.published_at. */
  markPublished(ids: number[], now: number): Promise<void>;
  releaseOutbox(ids: number[]): Promise<void>;

  /** Drops expired dedup entries and batch client ids; returns how many. */
  purgeDedup(now: number): Promise<number>;
  /**
   * Deletes up to `limit` finished telegrams (done/error) accepted before `before`, with their
   * parse results (retention). Unfinished telegrams are never deleted. Returns how many.
   */
  purgeFinished(before: number, limit: number): Promise<number>;

  /**
   * Calls `listener` when another instance enqueued work (PostgreSQL LISTEN/NOTIFY).
   * SQLite is single-process and never calls it. Returns an unsubscribe function.
   */
  onWorkAvailable(listener: () => void): () => void;
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

  // --- admin: keys ---
  listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>>;
  getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined>;
  /** Returns false when there was no such key. */
  deleteMeterKey(meterId: string): Promise<boolean>;
  /**
   * Upserts the "keys needed" list: an encrypted telegram of this meter arrived and no key was known.
   * At most KEY_MISSING_GATEWAYS_MAX gateways are kept per meter (the first ones seen).
   */
  recordKeyMissing(meterId: string, manufacturer: string | null, gatewayId: string, now: number): Promise<void>;
  /**
   * Bounds the "keys needed" list: drops entries last seen before `before`, then the longest unseen
   * beyond `maxEntries`, with their gateways. Returns how many entries left.
   */
  pruneKeyMissing(before: number, maxEntries: number): Promise<number>;
  /** Newest last_seen first. A meter leaves the list when putMeterKey stores its key. */
  listKeyMissing(limit: number, cursor: string | null): Promise<Page<KeyMissingMeter>>;
  countKeyMissing(): Promise<number>;

  // --- admin: mappings (version 1 = the MAPPINGS_FILE content at first start) ---
  getActiveMapping(): Promise<MappingVersion | undefined>;
  listMappingVersions(limit: number, cursor: string | null): Promise<Page<MappingVersion>>;
  /** Stores a new version and makes it active; returns it. */
  putMapping(json: string, now: number): Promise<MappingVersion>;
  /** Returns undefined when the version does not exist. */
  activateMapping(version: number): Promise<MappingVersion | undefined>;

  // --- admin: telegrams ---
  /** Newest first. */
  listTelegrams(filter: TelegramFilter, limit: number, cursor: string | null): Promise<Page<TelegramRecord>>;
  /**
   * Re-queues up to `limit` matching finished telegrams (status done/error), oldest first: attempts 0,
   * due now, replay flag set. Says how many matched beyond the limit, and which re-queued ones have
   * no key any more (the key sent with the telegram was deleted when it finished, and the key store
   * has none for its meter).
   */
  replayTelegrams(filter: TelegramFilter, now: number, limit: number): Promise<ReplayResult>;

  // --- admin: audit, gateways, settings ---
  insertAudit(record: Omit<AuditRecord, 'id'>): Promise<void>;
  /** Newest first. */
  listAudit(limit: number, cursor: string | null): Promise<Page<AuditRecord>>;
  /** Per gateway over telegrams created at or after `since`. */
  gatewayStats(since: number, now: number): Promise<GatewayStats[]>;
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;

  // --- shared parser state (circuit breaker, 429 pause) ---
  getParserState(): Promise<ParserState>;
  /** Raises each given field to at least the given value (never lowers it: another instance may have set a later time). */
  raiseParserState(patch: Partial<ParserState>): Promise<void>;
  /** Sets openUntil back to 0 (after a successful probe). */
  closeCircuit(): Promise<void>;

  // --- meter liveness (issue 13) ---
  /**
   * One more reception of a meter, in one transaction: learned interval, gateways, last error, status.
   * `back` says the meter was stale before. `intervalMs` is the learned interval after this reception.
   */
  recordMeterSeen(seen: MeterSeen, policy: StalePolicy): Promise<{ back: boolean; intervalMs: number | null }>;
  /**
   * Marks up to `limit` meters whose stale_at passed as `stale` and returns them. Every meter is
   * returned once per silence. PostgreSQL: one instance at a time (transaction advisory lock); an
   * instance that does not get the lock returns [] and leaves the work to the holder.
   */
  markStaleMeters(now: number, limit: number): Promise<MeterLiveness[]>;
  /** By meter id; `status` null = all; `idPrefix` keeps meters whose id starts with it (case-sensitive). */
  listMeters(status: MeterStatus | null, limit: number, cursor: string | null, idPrefix?: string): Promise<Page<MeterLiveness>>;
  /** One entry per given id, in order (duplicates kept). */
  matchMeters(meterIds: string[]): Promise<MeterMatch[]>;
  /** The newest `done` telegram's reading of each given meter (meters without one are left out). */
  latestReadings(meterIds: string[]): Promise<MeterReading[]>;
  /** A meter's readings accepted in [since, until), newest first, at most `limit` (stored telegrams, so bounded by RETENTION_DAYS). */
  listReadings(meterId: string, since: number | null, until: number | null, limit: number): Promise<MeterReading[]>;
  countMetersByStatus(): Promise<Record<MeterStatus, number>>;
  getMeter(meterId: string): Promise<MeterLiveness | undefined>;
  /** Deletes the meter's liveness row; false when there was none. */
  deleteMeter(meterId: string): Promise<boolean>;
  /** Messages not tied to a telegram (bridge events, cleared discovery configs), published by the outbox relay. */
  enqueueMessages(messages: OutboxMessage[], now: number): Promise<void>;
}
