import { describe, expect, it } from 'vitest';
import { gatewayLevel, ingressFilter, parseIngressMessage } from '../../src/ingress/ingress-message.js';

const HEX = '1844ae4c4455223368077a55000000041389e20100023b0000';

describe('MQTT ingress messages', () => {
  const filters = ['wmbus/{gateway_id}/telegram', 'oms/v1/ingest/{gateway_id}'].map(ingressFilter);

  it('subscribes with + in place of {gateway_id} and reads the id level back from a topic', () => {
    expect(filters.map((f) => f.subscription)).toEqual(['wmbus/+/telegram', 'oms/v1/ingest/+']);
    expect(gatewayLevel(filters, 'wmbus/esp-1/telegram')).toBe('esp-1');
    expect(gatewayLevel(filters, 'oms/v1/ingest/gw9')).toBe('gw9');
    expect(gatewayLevel(filters, 'wmbus/esp-1/telegram/extra')).toBeUndefined();
    expect(gatewayLevel(filters, 'other/esp-1/telegram')).toBeUndefined();
  });

  it('takes bare hex with 0x and whitespace, and the JSON body with aliases', () => {
    const bare = parseIngressMessage('esp-1', Buffer.from(` 0X${HEX.toUpperCase().slice(0, 10)} ${HEX.toUpperCase().slice(10)}\r\n`));
    expect(bare).toMatchObject({ ok: true, input: { gatewayId: 'esp-1', rawHex: HEX.toUpperCase() } });
    const json = parseIngressMessage('esp-1', Buffer.from(JSON.stringify({ hex: HEX, rssi: -77, mode: 'T1', client_id: 'n1' })));
    expect(json).toMatchObject({ ok: true, input: { gatewayId: 'esp-1', rawHex: HEX, rssiDbm: -77, mode: 'T1', clientId: 'n1' } });
  });

  it('refuses what the HTTP API refuses, and a body naming another gateway', () => {
    expect(parseIngressMessage('esp-1', Buffer.from('zz'))).toMatchObject({ ok: false, gatewayId: 'esp-1', error: { code: 'validation_failed' } });
    expect(parseIngressMessage('esp-1', Buffer.from('{"raw_hex":'))).toMatchObject({ ok: false, error: { details: [{ field: 'payload' }] } });
    expect(parseIngressMessage('esp-1', Buffer.from(JSON.stringify({ raw_hex: HEX, rssi_dbm: 7 })))).toMatchObject({ ok: false, error: { details: [{ field: 'rssi_dbm' }] } });
    expect(parseIngressMessage('esp-1', Buffer.from(JSON.stringify({ gateway_id: 'other', raw_hex: HEX })))).toMatchObject({ ok: false, gatewayId: 'esp-1', error: { code: 'forbidden' } });
    expect(parseIngressMessage('bad id%', Buffer.from(HEX))).toMatchObject({ ok: false, gatewayId: undefined });
    expect(parseIngressMessage(undefined, Buffer.from(HEX))).toMatchObject({ ok: false, gatewayId: undefined });
  });
});
