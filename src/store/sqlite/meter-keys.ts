import type Database from 'better-sqlite3';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { MeterKeys } from '../roles.js';
import type { MeterKeyRecord, Page } from '../store.js';
import { toMeterKey, type Row } from '../store-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

function prepare(db: Database.Database) {
  return {
    getKey: db.prepare('SELECT key_hex FROM meter_keys WHERE meter_id = ?').pluck(),
    putKey: db.prepare(
      `INSERT INTO meter_keys (meter_id, manufacturer, key_hex, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, key_hex = excluded.key_hex, updated_at = excluded.updated_at`,
    ),
    // A meter with a key is no longer on the "keys needed" list: cleared in putMeterKey's transaction.
    clearMissing: db.prepare('DELETE FROM key_missing WHERE meter_id = ?'),
    clearMissingGateways: db.prepare('DELETE FROM key_missing_gateways WHERE meter_id = ?'),
    listKeys: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys ORDER BY meter_id LIMIT ?'),
    listKeysAfter: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id > ? ORDER BY meter_id LIMIT ?'),
    getKeyRecord: db.prepare('SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id = ?'),
    deleteKey: db.prepare('DELETE FROM meter_keys WHERE meter_id = ?'),
  };
}

export class SqliteMeterKeys implements MeterKeys {
  private readonly s: () => ReturnType<typeof prepare>;

  constructor(private readonly conn: SqliteConnection) {
    this.s = conn.statements(prepare);
  }

  async getMeterKey(meterId: string): Promise<string | undefined> {
    return (this.s().getKey.get(meterId) as string | undefined) ?? undefined;
  }

  async putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void> {
    const s = this.s();
    this.conn.get().transaction(() => {
      s.putKey.run(meterId, manufacturer, keyHex, now);
      s.clearMissing.run(meterId);
      s.clearMissingGateways.run(meterId);
    })();
  }

  async listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>> {
    const s = this.s();
    const n = pageLimit(limit) + 1;
    const rows = (cursor === null
      ? s.listKeys.all(n)
      : s.listKeysAfter.all(decodeCursor(cursor, ['string'] as const)[0], n)) as Row[];
    return toPage(rows, limit, toMeterKey, (r) => [r.meter_id as string]);
  }

  async getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined> {
    const row = this.s().getKeyRecord.get(meterId) as Row | undefined;
    return row ? toMeterKey(row) : undefined;
  }

  async deleteMeterKey(meterId: string): Promise<boolean> {
    return this.s().deleteKey.run(meterId).changes > 0;
  }
}
