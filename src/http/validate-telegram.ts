import type { TelegramBody } from './schemas.js';

export interface FieldProblem {
  field: string;
  problem: string;
}

const GATEWAY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX = /^[0-9a-fA-F]*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** wM-Bus modes of EN 13757-4 as gateways name them. */
export const WMBUS_MODES: readonly string[] = ['S1', 'S1-m', 'S2', 'T1', 'T2', 'C1', 'C2', 'N', 'F'];
export const MIN_TELEGRAM_BYTES = 11;
export const MAX_TELEGRAM_BYTES = 512;

/** Date and time fields name a real moment: Date.parse rolls 2026-02-30 over to March and takes 24:00. */
function onTheCalendar(rfc3339: string): boolean {
  const [y, mo, d, h, mi, s] = [0, 5, 8, 11, 14, 17].map((i) => Number(rfc3339.slice(i, i + (i === 0 ? 4 : 2)))) as [number, number, number, number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s);
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}

/**
 * The checks JSON Schema cannot phrase clearly (hex, byte length, RFC 3339,
 * ranges). Returns every problem, not just the first, so a gateway developer
 * fixes them in one go.
 */
export function telegramProblems(b: TelegramBody): FieldProblem[] {
  const p: FieldProblem[] = [];
  if (!GATEWAY_ID.test(b.gateway_id)) p.push({ field: 'gateway_id', problem: 'must match [A-Za-z0-9._-]{1,64}' });
  if (!HEX.test(b.raw_hex)) p.push({ field: 'raw_hex', problem: 'must contain hex digits only (no 0x, no spaces)' });
  else if (b.raw_hex.length % 2 !== 0) p.push({ field: 'raw_hex', problem: 'must have an even number of hex digits' });
  else if (b.raw_hex.length < MIN_TELEGRAM_BYTES * 2) p.push({ field: 'raw_hex', problem: `must be at least ${MIN_TELEGRAM_BYTES} bytes (link layer + CI)` });
  else if (b.raw_hex.length > MAX_TELEGRAM_BYTES * 2) p.push({ field: 'raw_hex', problem: `must be at most ${MAX_TELEGRAM_BYTES} bytes` });
  if (b.rx_time !== undefined && (!RFC3339.test(b.rx_time) || Number.isNaN(Date.parse(b.rx_time)) || !onTheCalendar(b.rx_time))) {
    p.push({ field: 'rx_time', problem: 'must be an RFC 3339 date-time, e.g. 2026-01-08T12:45:11.123Z' });
  }
  if (b.rssi_dbm !== undefined && !(b.rssi_dbm >= -150 && b.rssi_dbm <= 0)) p.push({ field: 'rssi_dbm', problem: 'must be a number in [-150, 0]' });
  if (b.key_hex !== undefined && !/^[0-9a-fA-F]{32}$/.test(b.key_hex)) p.push({ field: 'key_hex', problem: 'must be exactly 32 hex digits' });
  const hintId = b.meter_hint?.meter_id;
  if (hintId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(hintId)) p.push({ field: 'meter_hint.meter_id', problem: 'must match [A-Za-z0-9._-]{1,64}' });
  if (b.mode !== undefined && !WMBUS_MODES.includes(b.mode)) p.push({ field: 'mode', problem: `must be one of ${WMBUS_MODES.join(', ')}` });
  const manufacturer = b.meter_hint?.manufacturer;
  if (manufacturer !== undefined && !/^[A-Za-z]{3}$/.test(manufacturer)) p.push({ field: 'meter_hint.manufacturer', problem: 'must be 3 letters, e.g. ELS' });
  // Every string field above is matched against a pattern without control characters, so
  // none reaches the database (PostgreSQL refuses NUL with an error a gateway would retry forever).
  return p;
}
