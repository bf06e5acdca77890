import type { MeterStatus } from '../liveness/meter-state.js';
import type { MessagePort } from 'node:worker_threads';
import type {
  AuditLog, Housekeeping, JobQueue, KeyProblems, Mappings, MeterKeys, MeterRegistry, Outbox, ParserStateStore, RoleMethods, Settings,
  StoreLifecycle, StoreRoles, TelegramIntake, TelegramQueries, GatewayRegistry,
} from './roles.js';

/** Durable queue, outbox and key store; SQLite and PostgreSQL implement every role (src/store/roles.ts) side by side. */

/** `merged`: another reception of the same transmission carries the job (DEDUP_SCOPE=global); see `mergedInto`. */
export type JobStatus = 'queued' | 'processing' | 'done' | 'error' | 'merged';
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
  /** DEDUP_SCOPE=global only: how this reception joins the other receptions of its transmission. */
  merge?: MergeSpec | undefined;
}

/** One radio transmission heard by several gateways becomes one job (DEDUP_SCOPE=global). */
export interface MergeSpec {
  /** mergeHash() of the telegram. */
  hash: string;
  /** Epoch ms: receptions inserted before this join the first reception's job. */
  until: number;
  /** Epoch ms when the first reception's job becomes due (after the window, so all receptions are in). */
  dueAt: number;
}

/** One gateway's reception of a transmission, as listed in a merged reading. */
export interface Reception {
  ingestId: string;
  gatewayId: string;
  rssiDbm: number | null;
  rxTime: string;
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
  /** Outcome of the last attempt so far (kept when a claimed job is put back unrun). */
  errorCode: string | null;
  lastError: string | null;
  /** When it was accepted, epoch ms: a receive time later than this comes from a gateway clock running ahead. */
  createdAt: number;
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
  /** DEDUP_SCOPE=global: the telegram was stored as a reception of this job's transmission. */
  mergedInto?: string;
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
  /** Put back without having run: this claim does not count towards JOB_MAX_CLAIMS (others before it still do). */
  unrun?: boolean;
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
  /** Status `merged`: the ingest id of the job that carries this reception. */
  mergedInto: string | null;
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

/** Gateways remembered per meter on the "key problems" list. */
export const KEY_MISSING_GATEWAYS_MAX = 16;

/** Why a meter's telegrams do not decrypt (src/wmbus/key-diagnosis.ts); the kinds of the "key problems" list. */
export const KEY_PROBLEMS = ['key_missing', 'wrong_key', 'truncated', 'unsupported_mode'] as const;
export type KeyProblemKind = (typeof KEY_PROBLEMS)[number];

/** Longest `detail` kept per entry: one sentence, never key material. */
export const KEY_PROBLEM_DETAIL_MAX = 300;

/** One failed decryption, as recorded on the "key problems" list. */
export interface KeyProblemReport {
  meterId: string;
  manufacturer: string | null;
  gatewayId: string;
  problem: KeyProblemKind;
  /** One sentence from the key diagnosis; cut to KEY_PROBLEM_DETAIL_MAX characters. */
  detail: string;
  now: number;
}

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

/** A meter on the "key problems" list: its latest problem; count and first_seen restart when the kind changes. */
export interface KeyProblemMeter {
  meterId: string;
  manufacturer: string | null;
  problem: KeyProblemKind;
  detail: string | null;
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
  /** The meter's entry on the key problems list (GET /v1/admin/key-problems), null when it has none. */
  keyProblem: KeyProblemKind | null;
  /** A key is stored for it. */
  hasKey: boolean;
}

/** What another thread of this process needs to use the same store: a port to the SQLite writer thread. */
export interface StoreLink {
  sqliteWriter: MessagePort;
}

/** Every role; what a backend implements. Consumers take only the roles they use. */
export interface TelegramStore
  extends StoreLifecycle,
    TelegramIntake,
    JobQueue,
    Outbox,
    MeterKeys,
    KeyProblems,
    Mappings,
    TelegramQueries,
    AuditLog,
    Settings,
    ParserStateStore,
    MeterRegistry,
    Housekeeping,
    GatewayRegistry {}


/** Backends are composed of StoreRoles: a role in TelegramStore but not in StoreRoles (or the other way round) does not compile. */
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type StoreRolesComplete = Holds<Exactly<keyof TelegramStore, keyof StoreLifecycle | keyof RoleMethods<StoreRoles>>>;
