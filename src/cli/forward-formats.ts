/** Line formats the forwarder reads on stdin; pure functions, no I/O. */

export type ForwardFormat = 'auto' | 'hex' | 'rtl_wmbus' | 'rtl_433' | 'jsonl';
export const FORWARD_FORMATS: readonly ForwardFormat[] = ['auto', 'hex', 'rtl_wmbus', 'rtl_433', 'jsonl'];

/** One telegram as the batch API takes it (without gateway_id and client_id, which the forwarder adds). */
export interface ForwardTelegram {
  raw_hex: string;
  mode?: string;
  rssi_dbm?: number;
  rx_time?: string;
  meter_hint?: { meter_id?: string; manufacturer?: string };
}

/** A line that is not a telegram says why (shown on stderr); `skip` lines are expected noise (other rtl_433 devices, bad CRC). */
export type LineResult = { ok: true; telegram: ForwardTelegram } | { ok: false; skip: boolean; reason: string };

const HEX = /^[0-9a-fA-F]+$/;

function cleanHex(s: string): string {
  return s.replace(/\s+/g, '').replace(/^0x/i, '');
}

function hexTelegram(text: string, extra: Omit<ForwardTelegram, 'raw_hex'> = {}): LineResult {
  const hex = cleanHex(text);
  if (hex === '' || !HEX.test(hex) || hex.length % 2 !== 0) return { ok: false, skip: false, reason: 'not an even number of hex digits' };
  return { ok: true, telegram: { raw_hex: hex.toLowerCase(), ...extra } };
}

/**
 * rtl_wmbus (xaelsouth/rtl-wmbus README): semicolon separated
 * `MODE;CRC_OK;3OUTOF6OK;TIMESTAMP;PACKET_RSSI;CURRENT_RSSI;LINK_LAYER_IDENT_NO;DATAGRAM_WITHOUT_CRC_BYTES`.
 * Only frames with CRC_OK=1 and 3OUTOF6OK=1 are sent. Its RSSI columns are receiver units, not dBm,
 * and its timestamp has no zone, so neither is sent (the forwarder stamps rx_time when it reads the line).
 */
export function parseRtlWmbus(line: string): LineResult {
  const cols = line.trim().split(';');
  if (cols.length < 8) return { ok: false, skip: false, reason: 'rtl_wmbus line needs 8 ;-separated columns' };
  const [mode, crcOk, sixOk] = cols;
  if (crcOk !== '1' || sixOk !== '1') return { ok: false, skip: true, reason: 'rtl_wmbus frame with a CRC or 3-out-of-6 error' };
  const known = ['S1', 'T1', 'C1', 'S2', 'T2', 'C2'];
  return hexTelegram(cols[7] ?? '', known.includes(mode ?? '') ? { mode: mode as string } : {});
}

/**
 * rtl_433 `-F json` (one JSON object per line): wM-Bus frames have `"model":"Wireless-MBus"`, `mode`
 * T, C or S (mapped to T1, C1, S1) and the frame as hex in `data`. Other models are skipped. Its `rssi`
 * (with `-M level`) is dB relative to full scale, not dBm, so it is not sent.
 */
export function parseRtl433(line: string): LineResult {
  const o = jsonObject(line);
  if (o === undefined) return { ok: false, skip: false, reason: 'not a JSON object' };
  if (o.model !== 'Wireless-MBus') return { ok: false, skip: true, reason: `rtl_433 model ${String(o.model)}` };
  if (typeof o.data !== 'string') return { ok: false, skip: false, reason: 'rtl_433 Wireless-MBus line without data' };
  const modes: Record<string, string> = { T: 'T1', C: 'C1', S: 'S1' };
  // Other modes (rtl_433's optional R2 decoder) are not among the bridge's modes: the frame goes without one.
  const mode = typeof o.mode === 'string' ? modes[o.mode] : undefined;
  return hexTelegram(o.data, mode === undefined ? {} : { mode });
}

/** The line as a JSON object, or undefined (not JSON, or `null`, a number, an array). */
function jsonObject(line: string): Record<string, unknown> | undefined {
  try {
    const o: unknown = JSON.parse(line);
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JSON Lines in the shape of POST /v1/telegrams (gateway_id and client_id are set by the forwarder). */
export function parseJsonl(line: string): LineResult {
  const o = jsonObject(line);
  if (o === undefined) return { ok: false, skip: false, reason: 'not a JSON object' };
  if (typeof o.raw_hex !== 'string') return { ok: false, skip: false, reason: 'JSON line without raw_hex' };
  const t: ForwardTelegram = { raw_hex: cleanHex(o.raw_hex) };
  if (typeof o.mode === 'string') t.mode = o.mode;
  if (typeof o.rssi_dbm === 'number') t.rssi_dbm = o.rssi_dbm;
  if (typeof o.rx_time === 'string') t.rx_time = o.rx_time;
  if (o.meter_hint !== null && typeof o.meter_hint === 'object') t.meter_hint = o.meter_hint as ForwardTelegram['meter_hint'] & object;
  return { ok: true, telegram: t };
}

/** Parses one input line in `format`; `auto` tells the formats apart by their first characters. Empty and # lines are skipped. */
export function parseLine(line: string, format: ForwardFormat): LineResult {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { ok: false, skip: true, reason: 'empty or comment' };
  switch (format) {
    case 'hex': return hexTelegram(text);
    case 'rtl_wmbus': return parseRtlWmbus(text);
    case 'rtl_433': return parseRtl433(text);
    case 'jsonl': return parseJsonl(text);
    case 'auto':
      if (text.startsWith('{')) return /"model"\s*:/.test(text) ? parseRtl433(text) : parseJsonl(text);
      if (text.includes(';')) return parseRtlWmbus(text);
      return hexTelegram(text);
  }
}
