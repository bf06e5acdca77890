import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/cli/forward-formats.js';

// Sample lines written from the tools' documentation: rtl_wmbus README (column list) and the
// rtl_433 m_bus decoder's JSON fields (model, mode, M, id, data, …).
const FRAME = '1844ae4c4455223368077a55000000041389e20100023b0000';
const RTL_WMBUS_OK = `T1;1;1;2026-01-08 12:45:11.000;97;102;33225544;0x${FRAME}`;
const RTL_WMBUS_BAD_CRC = `T1;0;1;2026-01-08 12:45:12.000;97;102;33225544;0x${FRAME}`;
const RTL_WMBUS_C1 = `C1;1;1;2026-01-08 12:45:13.000;80;85;33225544;0x${FRAME.toUpperCase()}`;
const RTL_433_WMBUS = `{"time" : "2026-01-08 12:45:11", "model" : "Wireless-MBus", "mode" : "C", "M" : "SEN", "id" : 33225544, "version" : 104, "type" : 7, "type_string" : "Water", "C" : 68, "data" : "${FRAME}", "CI" : 122, "mic" : "CRC"}`;
const RTL_433_OTHER = '{"time" : "2026-01-08 12:45:11", "model" : "Acurite-Tower", "id" : 1234, "temperature_C" : 21.5}';

describe('forwarder line formats', () => {
  it('rtl_wmbus: sends only frames with CRC and 3-out-of-6 OK, with the mode and without 0x', () => {
    expect(parseLine(RTL_WMBUS_OK, 'rtl_wmbus')).toEqual({ ok: true, telegram: { raw_hex: FRAME, mode: 'T1' } });
    expect(parseLine(RTL_WMBUS_C1, 'auto')).toEqual({ ok: true, telegram: { raw_hex: FRAME, mode: 'C1' } });
    expect(parseLine(RTL_WMBUS_BAD_CRC, 'rtl_wmbus')).toMatchObject({ ok: false, skip: true });
    expect(parseLine('T1;1;1;only-four', 'rtl_wmbus')).toMatchObject({ ok: false, skip: false });
  });

  it('rtl_433 -F json: Wireless-MBus frames with mode T/C/S mapped, other devices skipped', () => {
    expect(parseLine(RTL_433_WMBUS, 'rtl_433')).toEqual({ ok: true, telegram: { raw_hex: FRAME, mode: 'C1' } });
    expect(parseLine(RTL_433_WMBUS, 'auto')).toEqual({ ok: true, telegram: { raw_hex: FRAME, mode: 'C1' } });
    expect(parseLine(RTL_433_OTHER, 'auto')).toMatchObject({ ok: false, skip: true });
    expect(parseLine('{not json', 'rtl_433')).toMatchObject({ ok: false, skip: false });
    // rtl_433's optional R2 decoder: not a bridge mode, so the frame goes without one.
    expect(parseLine(RTL_433_WMBUS.replace('"mode" : "C"', '"mode" : "R"'), 'rtl_433')).toEqual({ ok: true, telegram: { raw_hex: FRAME } });
  });

  it('a JSON line that is not an object (null, a number, an array) is skipped with a reason, never a crash', () => {
    for (const line of ['null', '42', '[1,2]', '"x"']) {
      expect(parseLine(line, 'jsonl')).toMatchObject({ ok: false, skip: false });
      expect(parseLine(line, 'rtl_433')).toMatchObject({ ok: false, skip: false });
    }
  });

  it('hex (captured files, USB-stick readers) and JSON Lines in the API shape', () => {
    expect(parseLine(`  0x${FRAME.slice(0, 10)} ${FRAME.slice(10)}  `, 'auto')).toEqual({ ok: true, telegram: { raw_hex: FRAME } });
    expect(parseLine('abc', 'hex')).toMatchObject({ ok: false, skip: false });
    expect(parseLine('# capture of 2026-01-08', 'auto')).toMatchObject({ ok: false, skip: true });
    expect(parseLine('', 'auto')).toMatchObject({ ok: false, skip: true });
    const json = JSON.stringify({ raw_hex: FRAME, rssi_dbm: -80, mode: 'T1', rx_time: '2026-01-08T12:45:11Z', gateway_id: 'ignored' });
    expect(parseLine(json, 'auto')).toEqual({ ok: true, telegram: { raw_hex: FRAME, rssi_dbm: -80, mode: 'T1', rx_time: '2026-01-08T12:45:11Z' } });
  });
});
