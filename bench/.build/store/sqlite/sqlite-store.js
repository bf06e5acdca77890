import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BridgeError } from '../../lib/errors.js';
import { JOB_COLUMNS, TELEGRAM_RECORD_COLUMNS, toJob, toOutboxRow, toTelegramRecord } from '../store-rows.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteAdmin } from './sqlite-admin.js';
/** `sqlite:///./data/bridge.db` → `./data/bridge.db`; `sqlite:///:memory:` → `:memory:`. */
export function sqlitePath(url) {
    return url.replace(/^sqlite:\/\/\/?/, '');
}
/**
 * Single-process store on better-sqlite3. Synchronous calls are fine here: each
 * statement is tens of microseconds, and a round trip through a thread pool
 * would cost more than it saves. WAL + synchronous=NORMAL keeps every committed
 * transaction across a process crash (kill -9); only an OS crash or power loss
 * can lose the last transactions (documented in the README).
 */
export class SqliteStore {
    path;
    db;
    stmts;
    adminQueries;
    constructor(path) {
        this.path = path;
    }
    async start() {
        if (this.db)
            return;
        if (this.path !== ':memory:')
            mkdirSync(dirname(this.path), { recursive: true });
        const db = new Database(this.path, { timeout: 200 });
        try {
            // Exclusive locking: a second process on the same file fails fast instead
            // of two dispatchers claiming the same jobs. The OS drops the lock on crash.
            db.pragma('locking_mode = EXCLUSIVE');
            db.pragma('journal_mode = WAL');
            db.pragma('synchronous = NORMAL');
            db.pragma('foreign_keys = ON');
            db.exec('BEGIN IMMEDIATE; COMMIT;');
        }
        catch (err) {
            db.close();
            const code = err.code;
            if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
                throw new BridgeError('database_locked', `SQLite database ${this.path} is in use by another process. SQLite is single-process; to run several instances use DATABASE_URL=postgres://…`);
            }
            throw err;
        }
        this.db = db;
        this.migrate();
        this.stmts = this.prepare();
        this.adminQueries = new SqliteAdmin(db);
        // A previous process that died left claimed jobs and outbox rows behind; this
        // process holds the exclusive lock, so none of them is being worked on.
        db.prepare("UPDATE telegrams SET status = 'queued', locked_by = NULL, locked_until = NULL WHERE status = 'processing'").run();
        db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE locked_until > 0').run();
    }
    async stop() {
        this.db?.close();
        this.db = undefined;
        this.stmts = undefined;
        this.adminQueries = undefined;
    }
    migrate() {
        const db = this.conn();
        db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
        const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get();
        const current = row.v ?? 0;
        for (let v = current + 1; v <= SQLITE_MIGRATIONS.length; v++) {
            db.transaction(() => {
                db.exec(SQLITE_MIGRATIONS[v - 1]);
                db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
            })();
        }
    }
    conn() {
        if (!this.db)
            throw new BridgeError('store_closed', 'store is not started');
        return this.db;
    }
    s() {
        if (!this.stmts)
            throw new BridgeError('store_closed', 'store is not started');
        return this.stmts;
    }
    admin() {
        if (!this.adminQueries)
            throw new BridgeError('store_closed', 'store is not started');
        return this.adminQueries;
    }
    prepare() {
        const db = this.conn();
        return {
            dedupClaim: db.prepare(`INSERT INTO dedup (dedup_hash, ingest_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (dedup_hash) DO UPDATE SET ingest_id = excluded.ingest_id, expires_at = excluded.expires_at
         WHERE dedup.expires_at <= ? RETURNING ingest_id`),
            dedupGet: db.prepare('SELECT ingest_id FROM dedup WHERE dedup_hash = ?').pluck(),
            insertTelegram: db.prepare(`INSERT INTO telegrams (ingest_id, gateway_id, rx_time, rssi_dbm, mode, raw_hex, meter_id, manufacturer, dedup_hash,
           status, attempts, next_attempt_at, created_at, key_hex)
         VALUES (@ingestId, @gatewayId, @rxTime, @rssiDbm, @mode, @rawHex, @meterId, @manufacturer, @dedupHash,
           'queued', 0, @createdAt, @createdAt, @keyHex)`),
            insertOutbox: db.prepare('INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
            claimJobs: db.prepare(`UPDATE telegrams SET status = 'processing', locked_by = ?, locked_until = ?
         WHERE ingest_id IN (
           SELECT ingest_id FROM telegrams WHERE status = 'queued' AND next_attempt_at <= ?
           UNION ALL
           SELECT ingest_id FROM telegrams WHERE status = 'processing' AND locked_until < ?
           LIMIT ?)
         RETURNING ${JOB_COLUMNS}`),
            renew: db.prepare("UPDATE telegrams SET locked_until = ? WHERE ingest_id = ? AND locked_by = ? AND status = 'processing'"),
            retry: db.prepare(`UPDATE telegrams SET status = 'queued', attempts = ?, next_attempt_at = ?, error_code = ?, last_error = ?,
           locked_by = NULL, locked_until = NULL WHERE ingest_id = ?`),
            finish: db.prepare(`UPDATE telegrams SET status = ?, attempts = ?, error_code = ?, last_error = ?, finished_at = ?, key_hex = NULL,
           locked_by = NULL, locked_until = NULL, replay = 0 WHERE ingest_id = ?`),
            upsertResult: db.prepare(`INSERT INTO parse_results (ingest_id, parsed_json, created_at, published_at) VALUES (?, ?, ?, NULL)
         ON CONFLICT (ingest_id) DO UPDATE SET parsed_json = excluded.parsed_json, created_at = excluded.created_at, published_at = NULL`),
            nextDue: db.prepare("SELECT MIN(next_attempt_at) FROM telegrams WHERE status = 'queued'").pluck(),
            queueDepth: db.prepare("SELECT COUNT(*) FROM telegrams WHERE status IN ('queued', 'processing')").pluck(),
            outboxDepth: db.prepare('SELECT COUNT(*) FROM outbox').pluck(),
            // Ids grow with insertion, so the lowest id is the oldest message; uses the primary key, no scan.
            oldestOutbox: db.prepare('SELECT created_at FROM outbox ORDER BY id LIMIT 1').pluck(),
            getTelegram: db.prepare(`SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id WHERE t.ingest_id = ?`),
            getKey: db.prepare('SELECT key_hex FROM meter_keys WHERE meter_id = ?').pluck(),
            putKey: db.prepare(`INSERT INTO meter_keys (meter_id, manufacturer, key_hex, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, key_hex = excluded.key_hex, updated_at = excluded.updated_at`),
            claimOutbox: db.prepare(`UPDATE outbox SET locked_by = ?, locked_until = ?
         WHERE id IN (SELECT id FROM outbox WHERE locked_until < ? ORDER BY id LIMIT ?)
         RETURNING id, ingest_id, kind, topic, payload, qos, retain`),
            deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ? RETURNING ingest_id, kind'),
            stampPublished: db.prepare('UPDATE parse_results SET published_at = ? WHERE ingest_id = ?'),
            releaseOutbox: db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE id = ?'),
            purgeDedup: db.prepare('DELETE FROM dedup WHERE expires_at <= ?'),
        };
    }
    async ping() {
        this.conn().prepare('SELECT 1').get();
    }
    async insertTelegram(t, raw, dedupWindowMs) {
        const s = this.s();
        return this.conn().transaction(() => {
            if (dedupWindowMs !== null) {
                const claimed = s.dedupClaim.get(t.dedupHash, t.ingestId, t.createdAt + dedupWindowMs, t.createdAt);
                if (!claimed)
                    return { ingestId: s.dedupGet.get(t.dedupHash), duplicate: true };
            }
            s.insertTelegram.run(t);
            this.insertMessages([raw], t.createdAt);
            return { ingestId: t.ingestId, duplicate: false };
        })();
    }
    insertMessages(messages, now) {
        const s = this.s();
        for (const m of messages)
            s.insertOutbox.run(m.ingestId, m.kind, m.topic, m.payload, m.qos, m.retain ? 1 : 0, now);
    }
    async claimJobs(limit, now, lockedBy, leaseMs) {
        const rows = this.s().claimJobs.all(lockedBy, now + leaseMs, now, now, limit);
        // RETURNING order is unspecified; oldest first keeps latency fair.
        rows.sort((a, b) => a.created_at - b.created_at);
        return rows.map(toJob);
    }
    async renewLeases(ingestIds, lockedBy, until) {
        const s = this.s();
        this.conn().transaction(() => {
            for (const id of ingestIds)
                s.renew.run(until, id, lockedBy);
        })();
    }
    async retryJob(ingestId, r) {
        this.s().retry.run(r.attempts, r.nextAttemptAt, r.errorCode, r.lastError, ingestId);
    }
    async finishJob(ingestId, f) {
        const s = this.s();
        this.conn().transaction(() => {
            s.finish.run(f.status, f.attempts, f.errorCode, f.lastError, f.now, ingestId);
            s.upsertResult.run(ingestId, f.parsedJson, f.now);
            this.insertMessages(f.messages, f.now);
        })();
    }
    async nextDueAt() {
        return this.s().nextDue.get() ?? null;
    }
    async depths() {
        const s = this.s();
        return {
            queue: s.queueDepth.get(),
            outbox: s.outboxDepth.get(),
            oldestOutboxAt: s.oldestOutbox.get() ?? null,
        };
    }
    async getTelegram(ingestId) {
        const row = this.s().getTelegram.get(ingestId);
        return row ? toTelegramRecord(row) : undefined;
    }
    async getMeterKey(meterId) {
        return this.s().getKey.get(meterId) ?? undefined;
    }
    async putMeterKey(meterId, keyHex, manufacturer, now) {
        const s = this.s();
        const admin = this.admin();
        this.conn().transaction(() => {
            s.putKey.run(meterId, manufacturer, keyHex, now);
            admin.clearKeyMissing(meterId);
        })();
    }
    async claimOutbox(limit, now, lockedBy, leaseMs) {
        const rows = this.s().claimOutbox.all(lockedBy, now + leaseMs, now, limit);
        rows.sort((a, b) => a.id - b.id);
        return rows.map(toOutboxRow);
    }
    async markPublished(ids, now) {
        const s = this.s();
        this.conn().transaction(() => {
            for (const id of ids) {
                const row = s.deleteOutbox.get(id);
                if (row?.ingest_id && row.kind !== 'raw')
                    s.stampPublished.run(now, row.ingest_id);
            }
        })();
    }
    async releaseOutbox(ids) {
        const s = this.s();
        this.conn().transaction(() => {
            for (const id of ids)
                s.releaseOutbox.run(id);
        })();
    }
    async purgeDedup(now) {
        return this.s().purgeDedup.run(now).changes;
    }
    /** Single process: the ingest path wakes the local workers directly, so there is never anyone else to hear from. */
    onWorkAvailable(_listener) {
        return () => { };
    }
    // --- admin: delegated to SqliteAdmin (sqlite-admin.ts) ---
    async listMeterKeys(limit, cursor) { return this.admin().listMeterKeys(limit, cursor); }
    async getMeterKeyRecord(meterId) { return this.admin().getMeterKeyRecord(meterId); }
    async deleteMeterKey(meterId) { return this.admin().deleteMeterKey(meterId); }
    async recordKeyMissing(meterId, manufacturer, gatewayId, now) {
        this.admin().recordKeyMissing(meterId, manufacturer, gatewayId, now);
    }
    async listKeyMissing(limit, cursor) { return this.admin().listKeyMissing(limit, cursor); }
    async countKeyMissing() { return this.admin().countKeyMissing(); }
    async getActiveMapping() { return this.admin().getActiveMapping(); }
    async listMappingVersions(limit, cursor) {
        return this.admin().listMappingVersions(limit, cursor);
    }
    async putMapping(json, now) { return this.admin().putMapping(json, now); }
    async activateMapping(version) { return this.admin().activateMapping(version); }
    async listTelegrams(filter, limit, cursor) {
        return this.admin().listTelegrams(filter, limit, cursor);
    }
    async replayTelegrams(filter, now) { return this.admin().replayTelegrams(filter, now); }
    async insertAudit(record) { this.admin().insertAudit(record); }
    async listAudit(limit, cursor) { return this.admin().listAudit(limit, cursor); }
    async gatewayStats(since, now) { return this.admin().gatewayStats(since, now); }
    async getSetting(name) { return this.admin().getSetting(name); }
    async putSetting(name, value) { this.admin().putSetting(name, value); }
    async getParserState() { return this.admin().getParserState(); }
    async raiseParserState(patch) { this.admin().raiseParserState(patch); }
    async closeCircuit() { this.admin().closeCircuit(); }
}
