import type pg from 'pg';
import { decodeCursor, pageLimit, toPage } from '../page-cursor.js';
import type { MeterKeys } from '../roles.js';
import type { MeterKeyRecord, Page } from '../store.js';
import { toMeterKey } from '../store-rows.js';
import { rows } from './pg-query.js';

const SQL = {
  getKey: { name: 'oms_get_key', text: 'SELECT key_hex FROM meter_keys WHERE meter_id = $1' },
  // A meter with a key leaves the "keys needed" list in the same statement.
  putKey: { name: 'oms_put_key', text: `WITH k AS (
      INSERT INTO meter_keys (meter_id, manufacturer, key_hex, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (meter_id) DO UPDATE SET manufacturer = excluded.manufacturer, key_hex = excluded.key_hex, updated_at = excluded.updated_at),
    m AS (DELETE FROM key_missing WHERE meter_id = $1)
    DELETE FROM key_missing_gateways WHERE meter_id = $1` },
} as const;

export class PostgresMeterKeys implements MeterKeys {
  constructor(private readonly pool: () => pg.Pool) {}

  async getMeterKey(meterId: string): Promise<string | undefined> {
    const [row] = await rows(this.pool(), SQL.getKey, [meterId]);
    return row ? (row.key_hex as string) : undefined;
  }

  async putMeterKey(meterId: string, keyHex: string, manufacturer: string | null, now: number): Promise<void> {
    await rows(this.pool(), SQL.putKey, [meterId, manufacturer, keyHex, now]);
  }

  async listMeterKeys(limit: number, cursor: string | null): Promise<Page<MeterKeyRecord>> {
    const n = pageLimit(limit) + 1;
    const found = cursor === null
      ? await rows(this.pool(), 'SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys ORDER BY meter_id LIMIT $1', [n])
      : await rows(this.pool(), 'SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id > $1 ORDER BY meter_id LIMIT $2',
        [decodeCursor(cursor, ['string'] as const)[0], n]);
    return toPage(found, limit, toMeterKey, (r) => [r.meter_id as string]);
  }

  async getMeterKeyRecord(meterId: string): Promise<MeterKeyRecord | undefined> {
    const [row] = await rows(this.pool(), 'SELECT meter_id, manufacturer, key_hex, updated_at FROM meter_keys WHERE meter_id = $1', [meterId]);
    return row ? toMeterKey(row) : undefined;
  }

  async deleteMeterKey(meterId: string): Promise<boolean> {
    const result = await this.pool().query('DELETE FROM meter_keys WHERE meter_id = $1', [meterId]);
    return (result.rowCount ?? 0) > 0;
  }
}
