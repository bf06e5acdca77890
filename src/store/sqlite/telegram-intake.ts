import type Database from 'better-sqlite3';
import type { TelegramIntake } from '../roles.js';
import type { BatchInsert, BatchInsertResult, Depths, InsertResult, MergeSpec, NewTelegram, OutboxMessage } from '../store.js';
import type { DedupIndex } from './dedup-index.js';
import type { GroupCommit } from './group-commit.js';
import { OUTBOX_INSERT, writeMessages } from './outbox.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    // Rebuilds the in-memory dedup window after a start (telegrams_created index).
    // Rows as arrays (dedup_hash, ingest_id, created_at), 200,000 of them at a start; rowid (insertion order)
    // breaks ties within a millisecond straight from the index, where ingest_id needed a sort.
    recentTelegrams: db.prepare('SELECT dedup_hash, ingest_id, created_at FROM telegrams WHERE created_at >= ? ORDER BY created_at, rowid').raw(),
    insertTelegram: db.prepare(
      `INSERT INTO telegrams (ingest_id, gateway_id, rx_time, rssi_dbm, mode, raw_hex, meter_id, manufacturer, dedup_hash,
         status, attempts, next_attempt_at, created_at, key_hex)
       VALUES (@ingestId, @gatewayId, @rxTime, @rssiDbm, @mode, @rawHex, @meterId, @manufacturer, @dedupHash,
         'queued', 0, @createdAt, @createdAt, @keyHex)`,
    ),
    // DEDUP_SCOPE=global: the first reception claims the transmission for the merge window.
    mergeClaim: db.prepare(
      `INSERT INTO merges (merge_hash, ingest_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (merge_hash) DO UPDATE SET ingest_id = excluded.ingest_id, expires_at = excluded.expires_at
       WHERE merges.expires_at <= ? RETURNING ingest_id`,
    ),
    mergeGet: db.prepare('SELECT ingest_id FROM merges WHERE merge_hash = ?').pluck(),
    insertReception: db.prepare(
      `INSERT INTO telegrams (ingest_id, gateway_id, rx_time, rssi_dbm, mode, raw_hex, meter_id, manufacturer, dedup_hash,
         status, attempts, next_attempt_at, created_at, key_hex, merged_into)
       VALUES (@ingestId, @gatewayId, @rxTime, @rssiDbm, @mode, @rawHex, @meterId, @manufacturer, @dedupHash,
         @status, 0, @nextAttemptAt, @createdAt, @keyHex, @mergedInto)`,
    ),
    insertOutbox: db.prepare(OUTBOX_INSERT),
    // Claims the client id unless a live entry holds it (an expired one is taken over).
    clientClaim: db.prepare(
      `INSERT INTO client_ids (gateway_id, client_id, ingest_id, duplicate, expires_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (gateway_id, client_id) DO UPDATE SET ingest_id = excluded.ingest_id, duplicate = 0, expires_at = excluded.expires_at
       WHERE client_ids.expires_at <= ? RETURNING ingest_id`,
    ),
    clientGet: db.prepare('SELECT ingest_id, duplicate FROM client_ids WHERE gateway_id = ? AND client_id = ?'),
    clientSetDuplicate: db.prepare('UPDATE client_ids SET ingest_id = ?, duplicate = 1 WHERE gateway_id = ? AND client_id = ?'),
    // Two counts, so each uses its partial index instead of scanning the table.
    queueDepth: db.prepare(
      "SELECT (SELECT COUNT(*) FROM telegrams WHERE status = 'queued') + (SELECT COUNT(*) FROM telegrams WHERE status = 'processing')",
    ).pluck(),
    // The id span (two index probes) instead of COUNT(*), which scans a 100k-row backlog in ~7 ms on
    // the event loop twice a second. The relay publishes in id order, so holes are rare and the
    // span is at most a little high: backpressure errs on the safe side.
    outboxDepth: db.prepare('SELECT COALESCE((SELECT MAX(id) FROM outbox) - (SELECT MIN(id) FROM outbox) + 1, 0)').pluck(),
    // Ids grow with insertion, so the lowest id is the oldest message; uses the primary key, no scan.
    oldestOutbox: db.prepare('SELECT created_at FROM outbox ORDER BY id LIMIT 1').pluck(),
  };
}

type Statements = ReturnType<typeof prepare>;

/** A gateway waits for its answer: intake commits ahead of pipeline writes (group-commit.ts). */
const URGENT = { urgent: true } as const;

/** The request path on SQLite: inserts share the group commit, and the dedup window is in memory (dedup-index.ts). */
export class SqliteTelegramIntake implements TelegramIntake {
  private readonly s: () => Statements;

  constructor(
    conn: SqliteConnection,
    private readonly group: GroupCommit,
    private readonly dedup: DedupIndex,
  ) {
    this.s = conn.statements(prepare);
  }

  async insertTelegram(t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): Promise<InsertResult> {
    const s = this.s(); // store_closed at once, not after a turn
    return this.group.submit(() => insertOne(s, this.dedup, t, raw, dedupWindowMs), URGENT);
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
      const result = insertOne(s, this.dedup, t, raw, dedupWindowMs);
      if (clientId !== null && result.duplicate) s.clientSetDuplicate.run(result.ingestId, t.gatewayId, clientId);
      return { ...result, repeated: false };
    }), URGENT);
  }

  /**
   * Reads the dedup window in now: done lazily by the first insert, it held that gateway's 202 for
   * about a second after a restart with 200,000 telegrams in the window (bench note in bench/README.md).
   */
  async prepareIntake(dedupWindowMs: number | null): Promise<void> {
    if (dedupWindowMs === null) return;
    const s = this.s();
    await this.group.submit(() => loadDedup(s, this.dedup, Date.now(), dedupWindowMs), URGENT);
  }

  async depths(): Promise<Depths> {
    const s = this.s();
    return {
      queue: s.queueDepth.get() as number,
      outbox: s.outboxDepth.get() as number,
      oldestOutboxAt: (s.oldestOutbox.get() as number | undefined) ?? null,
    };
  }
}

function insertOne(s: Statements, dedup: DedupIndex, t: NewTelegram, raw: OutboxMessage, dedupWindowMs: number | null): InsertResult {
  if (dedupWindowMs !== null) {
    loadDedup(s, dedup, t.createdAt, dedupWindowMs);
    const first = dedup.claim(t.dedupHash, t.ingestId, t.createdAt + dedupWindowMs, t.createdAt);
    if (first !== null) return { ingestId: first, duplicate: true };
  }
  if (t.merge) return insertReception(s, t, t.merge, raw);
  s.insertTelegram.run(t);
  writeMessages(s.insertOutbox, [raw], t.createdAt);
  return { ingestId: t.ingestId, duplicate: false };
}

/** DEDUP_SCOPE=global: the first reception of a transmission gets the job, due after the window; later ones join it. */
function insertReception(s: Statements, t: NewTelegram, m: MergeSpec, raw: OutboxMessage): InsertResult {
  const first = s.mergeClaim.get(m.hash, t.ingestId, m.until, t.createdAt) !== undefined;
  const mergedInto = first ? null : (s.mergeGet.get(m.hash) as string);
  s.insertReception.run({
    ingestId: t.ingestId, gatewayId: t.gatewayId, rxTime: t.rxTime, rssiDbm: t.rssiDbm, mode: t.mode, rawHex: t.rawHex,
    meterId: t.meterId, manufacturer: t.manufacturer, dedupHash: t.dedupHash, createdAt: t.createdAt,
    // A joining reception's key would never be used: the job runs with the first one's.
    status: first ? 'queued' : 'merged', nextAttemptAt: first ? m.dueAt : t.createdAt, keyHex: first ? t.keyHex : null, mergedInto,
  });
  writeMessages(s.insertOutbox, [raw], t.createdAt);
  return mergedInto === null ? { ingestId: t.ingestId, duplicate: false } : { ingestId: t.ingestId, duplicate: false, mergedInto };
}

function loadDedup(s: Statements, dedup: DedupIndex, now: number, windowMs: number): void {
  // Streamed: the window may hold millions of rows; the index keeps at most DEDUP_MEMORY_MAX of them.
  if (!dedup.ready) dedup.load(s.recentTelegrams.iterate(now - windowMs) as Iterable<[string, string, number]>, windowMs);
}
