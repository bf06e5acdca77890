import type Database from 'better-sqlite3';
import { JOB_COLUMNS, TELEGRAM_RECORD_COLUMNS } from '../store-rows.js';

/** Every statement of the SQLite store's hot paths, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  return {
    // Rebuilds the in-memory dedup window after a start (telegrams_created index).
    recentTelegrams: db.prepare('SELECT dedup_hash, ingest_id, created_at FROM telegrams WHERE created_at >= ? ORDER BY created_at, ingest_id'),
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
    receptions: db.prepare(
      'SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE ingest_id = ? UNION ALL SELECT ingest_id, gateway_id, rssi_dbm, rx_time FROM telegrams WHERE merged_into = ?',
    ),
    purgeMerges: db.prepare('DELETE FROM merges WHERE expires_at <= ?'),
    insertOutbox: db.prepare(
      'INSERT INTO outbox (ingest_id, kind, topic, payload, qos, retain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    claimJobs: db.prepare(
      `UPDATE telegrams SET status = 'processing', locked_by = ?, locked_until = ?, lease_seq = lease_seq + 1, claims = claims + 1
       WHERE ingest_id IN (
         SELECT ingest_id FROM telegrams WHERE status = 'queued' AND next_attempt_at <= ?
         UNION ALL
         SELECT ingest_id FROM telegrams WHERE status = 'processing' AND locked_until < ?
         LIMIT ?)
       RETURNING ${JOB_COLUMNS}`,
    ),
    renew: db.prepare("UPDATE telegrams SET locked_until = ? WHERE ingest_id = ? AND locked_by = ? AND status = 'processing'"),
    retry: db.prepare(
      `UPDATE telegrams SET status = 'queued', attempts = ?, next_attempt_at = ?, error_code = ?, last_error = ?,
         locked_by = NULL, locked_until = NULL, claims = 0
       WHERE ingest_id = ? AND status = 'processing' AND locked_by = ? AND lease_seq = ?`,
    ),
    finish: db.prepare(
      `UPDATE telegrams SET status = ?, attempts = ?, error_code = ?, last_error = ?, finished_at = ?, key_hex = NULL,
         locked_by = NULL, locked_until = NULL, replay = 0, claims = 0
       WHERE ingest_id = ? AND status = 'processing' AND locked_by = ? AND lease_seq = ?`,
    ),
    upsertResult: db.prepare(
      `INSERT INTO parse_results (ingest_id, parsed_json, created_at, published_at) VALUES (?, ?, ?, NULL)
       ON CONFLICT (ingest_id) DO UPDATE SET parsed_json = excluded.parsed_json, created_at = excluded.created_at, published_at = NULL`,
    ),
    nextDue: db.prepare("SELECT MIN(next_attempt_at) FROM telegrams WHERE status = 'queued'").pluck(),
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
    getTelegram: db.prepare(
      `SELECT ${TELEGRAM_RECORD_COLUMNS} FROM telegrams t LEFT JOIN parse_results r ON r.ingest_id = t.ingest_id WHERE t.ingest_id = ?`,
    ),
    getKey: db.prepare('SELECT key_hex FROM meter_keys WHERE meter_id = ?').pluck(),
    putKey: db.prepare(
      `INSERT INTO meter_keys (meter_id, manufacturer, key_hex, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, key_hex = excluded.key_hex, updated_at = excluded.updated_at`,
    ),
    claimOutbox: db.prepare(
      `UPDATE outbox SET locked_by = ?, locked_until = ?
       WHERE id IN (SELECT id FROM outbox WHERE locked_until < ? ORDER BY id LIMIT ?)
       RETURNING id, ingest_id, kind, topic, payload, qos, retain`,
    ),
    deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ? RETURNING ingest_id, kind'),
    stampPublished: db.prepare('UPDATE parse_results SET published_at = ? WHERE ingest_id = ?'),
    releaseOutbox: db.prepare('UPDATE outbox SET locked_by = NULL, locked_until = 0 WHERE id = ?'),
    purgeDedup: db.prepare('DELETE FROM dedup WHERE expires_at <= ?'),
    purgeClientIds: db.prepare('DELETE FROM client_ids WHERE expires_at <= ?'),
    // Claims the client id unless a live entry holds it (an expired one is taken over).
    clientClaim: db.prepare(
      `INSERT INTO client_ids (gateway_id, client_id, ingest_id, duplicate, expires_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (gateway_id, client_id) DO UPDATE SET ingest_id = excluded.ingest_id, duplicate = 0, expires_at = excluded.expires_at
       WHERE client_ids.expires_at <= ? RETURNING ingest_id`,
    ),
    clientGet: db.prepare('SELECT ingest_id, duplicate FROM client_ids WHERE gateway_id = ? AND client_id = ?'),
    clientSetDuplicate: db.prepare('UPDATE client_ids SET ingest_id = ?, duplicate = 1 WHERE gateway_id = ? AND client_id = ?'),
    purgeResults: db.prepare(
      `DELETE FROM parse_results WHERE ingest_id IN (SELECT ingest_id FROM telegrams
         WHERE created_at < ? AND status IN ('done', 'error', 'merged') ORDER BY created_at LIMIT ?)`,
    ),
    purgeTelegrams: db.prepare(
      `DELETE FROM telegrams WHERE ingest_id IN (SELECT ingest_id FROM telegrams
         WHERE created_at < ? AND status IN ('done', 'error', 'merged') ORDER BY created_at LIMIT ?)`,
    ),
  };
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;
