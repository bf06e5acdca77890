import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearDiscovery } from '../../../src/homeassistant/discovery.js';
import { birthConfigs } from '../../../src/homeassistant/ha-birth.js';
import { HaDiscovery, MAX_ENTITIES_PER_METER, stateTopic } from '../../../src/homeassistant/ha-discovery.js';
import { createLogger } from '../../../src/observability/logger.js';
import { meterFromHeader } from '../../../src/parser/parser.js';
import { readingPayload, type MeterInfo, type NormalizedValue } from '../../../src/publish/payloads.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Job } from '../../../src/store/store.js';
import { decode, parseHeader, toValues } from '../../../src/wmbus/index.js';
import { validateDeviceDiscovery } from '../../helpers/ha-validator.js';
import { ROOT } from '../../helpers/process.js';

const VECTORS = readFileSync(join(ROOT, 'test/fixtures/public-vectors.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { driver: string; id: string; hex: string });

/** A public vector run through the built-in decoder: the values a real meter of that kind sends. */
function decoded(driver: string, id: string): { meter: MeterInfo; values: NormalizedValue[] } {
  const v = VECTORS.find((x) => x.driver === driver && x.id === id);
  if (!v) throw new Error(`no vector ${driver} ${id}`);
  return { meter: meterFromHeader(parseHeader(v.hex), null), values: toValues(decode(v.hex)) };
}

const silent = createLogger('silent');
const OPTS = { prefix: 'homeassistant', statusTopic: 'oms/v1/bridge/status', swVersion: '0.1.0', maxMeters: 100 };

function job(meterId: string | null = null): Pick<Job, 'ingestId' | 'rxTime' | 'rssiDbm' | 'gatewayId' | 'meterId'> {
  return { ingestId: '0190c0de-0000-7000-8000-000000000001', rxTime: '2026-12-02T12:00:00.000Z', rssiDbm: -71, gatewayId: 'gw-1', meterId };
}

/** Publishes one reading through a fresh HaDiscovery; returns the meter's config (validated) and its state. */
function discover(meter: MeterInfo, values: NormalizedValue[], ha = new HaDiscovery(OPTS), expireAfterS?: number) {
  const out = ha.messagesFor(job(), meter, 'local', values, { expireAfterS });
  out.commit();
  const configs = out.messages.filter((m) => m.kind === 'discovery');
  for (const c of configs) expect(validateDeviceDiscovery(c.topic, c.payload), c.topic).toEqual([]);
  const cfg = configs.find((c) => !c.topic.includes('oms_parser_bridge'));
  const state = out.messages.find((m) => m.kind === 'state');
  return {
    messages: out.messages,
    config: cfg ? (JSON.parse(cfg.payload) as { cmps: Record<string, Record<string, unknown>>; dev: Record<string, unknown>; state_topic: string }) : undefined,
    state: JSON.parse(state!.payload) as Record<string, unknown>,
  };
}

const sensorKeys = (cmps: Record<string, unknown>) => Object.keys(cmps).filter((k) => k !== 'rssi' && k !== 'last_seen').sort();

describe('Home Assistant discovery payloads', () => {
  it('water meter: volume as water total_increasing in m³, flow as a measurement; nothing it does not send', () => {
    const { meter, values } = decoded('iperl', '33225544');
    const { config, state } = discover(meter, values);
    expect(sensorKeys(config!.cmps)).toEqual(['volume_flow_m3h', 'volume_m3']);
    expect(config!.cmps.volume_m3).toMatchObject({ p: 'sensor', device_class: 'water', unit_of_measurement: 'm³', state_class: 'total_increasing', value_template: '{{ value_json.volume_m3 }}' });
    expect(config!.cmps.volume_flow_m3h).toMatchObject({ device_class: 'volume_flow_rate', unit_of_measurement: 'm³/h', state_class: 'measurement' });
    expect(config!.cmps.rssi).toMatchObject({ device_class: 'signal_strength', entity_category: 'diagnostic' });
    expect(config!.cmps.last_seen).toMatchObject({ device_class: 'timestamp', entity_category: 'diagnostic' });
    expect(config!.dev).toMatchObject({ ids: ['oms_sen_33225544'], sn: '33225544', mf: expect.stringMatching(/^Sensus/), via_device: 'oms_parser_bridge' });
    expect(state).toMatchObject({ volume_m3: expect.any(Number), rssi_dbm: -71, last_seen: '2026-12-02T12:00:00.000Z' });
    expect(config!.state_topic).toBe(stateTopic(meter));
  });

  it('gas meter: the volume is a gas total', () => {
    const meter: MeterInfo = { id: '12345678', manufacturer: 'ELS', device_type: 0x03, version: 1 };
    const { config } = discover(meter, [{ name: 'volume', value: 1234.567, unit: 'm^3' }, { name: 'dateTime', value: '2026-12-02T11:00:00Z', unit: '' }]);
    expect(sensorKeys(config!.cmps)).toEqual(['volume_m3']);
    expect(config!.cmps.volume_m3).toMatchObject({ device_class: 'gas', unit_of_measurement: 'm³', state_class: 'total_increasing' });
  });

  it('heat meter: energy total, volume total, power and temperatures measurements', () => {
    const { meter, values } = decoded('sensostar', '21750444');
    const { config } = discover(meter, values);
    const c = config!.cmps;
    expect(c.energy_wh).toMatchObject({ device_class: 'energy', unit_of_measurement: 'Wh', state_class: 'total_increasing' });
    expect(c.volume_m3).toMatchObject({ device_class: 'volume', state_class: 'total_increasing' });
    expect(c.power_w).toMatchObject({ device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement' });
    expect(c.flow_temperature_c).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' });
    expect(c.temperature_difference_k).toMatchObject({ unit_of_measurement: 'K', state_class: 'measurement' });
    expect(c.temperature_difference_k?.device_class).toBeUndefined();
    expect(c.error_flags).toBeUndefined();
  });

  it('heat meter in J and J/h: converted to MJ and W', () => {
    const { meter, values } = decoded('hydrocalm4', '05128041');
    const { config, state } = discover(meter, values);
    expect(config!.cmps.energy_mj).toMatchObject({ device_class: 'energy', unit_of_measurement: 'MJ' });
    expect(config!.cmps.power_w).toMatchObject({ device_class: 'power', unit_of_measurement: 'W' });
    const joules = values.find((v) => v.name === 'energy')!.value as number;
    expect(state.energy_mj).toBeCloseTo(joules / 1e6, 9);
  });

  it('heat cost allocator: units without a class, historic values disabled by default', () => {
    const { meter, values } = decoded('qcaloric', '78563412');
    const { config } = discover(meter, values);
    const c = config!.cmps;
    expect(sensorKeys(c)).toEqual(['hca', 'hca_s1', 'hca_s17']);
    expect(c.hca).toMatchObject({ name: 'Heat cost allocation', state_class: 'total_increasing' });
    expect(c.hca?.device_class).toBeUndefined();
    expect(c.hca?.unit_of_measurement).toBeUndefined();
    expect(c.hca_s1).toMatchObject({ state_class: 'total', enabled_by_default: false });
  });

  it('electricity meter: energy per tariff as totals, voltage and current measurements', () => {
    const { meter, values } = decoded('gransystems', '20100117');
    const { config } = discover(meter, values);
    const c = config!.cmps;
    expect(c.energy_wh).toMatchObject({ device_class: 'energy', state_class: 'total_increasing' });
    expect(c.energy_wh_t1).toMatchObject({ device_class: 'energy', state_class: 'total', name: 'Energy (tariff 1)' });
    expect(c.voltage_v_u1).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V', state_class: 'measurement', name: 'Voltage (subunit 1)' });
    expect(c.voltage_v_u3).toBeDefined();
    expect(c.frequency_hz).toMatchObject({ device_class: 'frequency', unit_of_measurement: 'Hz' });
    expect(c.current_a_u1).toMatchObject({ device_class: 'current', unit_of_measurement: 'A' });
    expect(c.volume_m3).toBeUndefined();
  });

  it('expire_after from the learned interval goes on every value sensor', () => {
    const { meter, values } = decoded('iperl', '33225544');
    const { config } = discover(meter, values, new HaDiscovery(OPTS), 2700);
    expect(config!.cmps.volume_m3?.expire_after).toBe(2700);
  });

  it('the validator catches what HA rejects (a test that cannot fail is a defect)', () => {
    const bad = JSON.stringify({
      dev: { ids: [] }, cmps: { x: { p: 'sensor', device_class: 'energy', unit_of_measurement: 'm³', state_class: 'measurement', value_template: '{{ value_json.x }}' } },
    });
    const problems = validateDeviceDiscovery('homeassistant/device/a b/config', bad);
    expect(problems.join('\n')).toMatch(/topic/);
    expect(problems.join('\n')).toMatch(/dev\.ids/);
    expect(problems.join('\n')).toMatch(/o\.name/);
    expect(problems.join('\n')).toMatch(/unique_id/);
    expect(problems.join('\n')).toMatch(/state_topic/);
    expect(problems.join('\n')).toMatch(/not a unit of energy/);
    expect(problems.join('\n')).toMatch(/measurement not allowed with energy/);
  });
});

describe('HaDiscovery: a sensor per sent value, configs only when something changed', () => {
  const meter: MeterInfo = { id: '33225544', manufacturer: 'SEN', device_type: 0x07, version: 0x68 };
  const volume = { name: 'volume', value: 12.5, unit: 'm^3' };
  const flow = { name: 'volumeFlow', value: 0.1, unit: 'm^3/h' };

  it('adds the sensor of a value that appears later, keeps the ones sent before, and repeats nothing', () => {
    const ha = new HaDiscovery(OPTS);
    const first = discover(meter, [volume], ha);
    expect(first.messages.map((m) => m.kind)).toEqual(['discovery', 'discovery', 'state']);
    expect(sensorKeys(first.config!.cmps)).toEqual(['volume_m3']);
    const again = discover(meter, [volume], ha);
    expect(again.messages.map((m) => m.kind)).toEqual(['state']);
    const more = discover(meter, [volume, flow], ha);
    expect(sensorKeys(more.config!.cmps)).toEqual(['volume_flow_m3h', 'volume_m3']);
    // A short frame without the flow does not remove its sensor, and its state keeps the last flow.
    const short = discover(meter, [{ ...volume, value: 13 }], ha);
    expect(short.messages.map((m) => m.kind)).toEqual(['state']);
    expect(short.state).toMatchObject({ volume_m3: 13, volume_flow_m3h: 0.1 });
  });

  it('a sender that varies storage numbers cannot grow one device beyond MAX_ENTITIES_PER_METER sensors', () => {
    const ha = new HaDiscovery(OPTS);
    let last: ReturnType<typeof discover> | undefined;
    for (let i = 0; i < MAX_ENTITIES_PER_METER + 40; i += 20) {
      last = discover(meter, [volume, ...Array.from({ length: 20 }, (_, k) => ({ ...volume, storage: i + k + 1 }))], ha);
    }
    const again = discover(meter, [{ ...volume, value: 14 }], ha);
    expect(again.state.volume_m3).toBe(14); // a known sensor still updates
    expect(Object.keys(last!.state).filter((k) => k.startsWith('volume')).length).toBeLessThanOrEqual(MAX_ENTITIES_PER_METER);
    const configs = again.messages.filter((m) => m.kind === 'discovery');
    expect(configs).toEqual([]); // nothing new to announce once full
  });

  it('sends the config of a meter that has no record again (deleted, possibly through another instance), though this process sent it', () => {
    const ha = new HaDiscovery(OPTS);
    discover(meter, [volume], ha);
    expect(ha.messagesFor(job(), meter, 'local', [volume]).messages.map((m) => m.kind)).toEqual(['state']);
    expect(ha.messagesFor(job(), meter, 'local', [volume], { first: true }).messages.map((m) => m.kind)).toEqual(['discovery', 'state']);
  });

  it('readings committing out of order: a late, older one does not set the remembered values back, and no sensor is lost', () => {
    const ha = new HaDiscovery(OPTS);
    discover(meter, [volume], ha);
    // Both start from the same snapshot; the newer one (with a new value) commits first.
    const newer = ha.messagesFor(job(), meter, 'local', [{ ...volume, value: 20 }, flow]);
    const older = ha.messagesFor(job(), meter, 'local', [{ ...volume, value: 10 }, { name: 'temperature', value: 11, unit: '°C' }], { latest: false });
    expect(older.messages.map((m) => m.kind)).toEqual(['discovery']);
    newer.commit();
    older.commit();
    const next = discover(meter, [{ name: 'volumeFlow', value: 0.2, unit: 'm^3/h' }], ha);
    expect(next.state).toMatchObject({ volume_m3: 20, volume_flow_m3h: 0.2 });
    // The older reading's new sensor went out in its config; the merged set goes out with the next reading.
    expect(sensorKeys(next.config!.cmps)).toEqual(expect.arrayContaining(['volume_m3', 'volume_flow_m3h']));
    expect(sensorKeys(next.config!.cmps).length).toBe(3);
  });

  it('sends the config again when the reading carrying it was not stored (no commit)', () => {
    const ha = new HaDiscovery(OPTS);
    ha.messagesFor(job(), meter, 'local', [volume]);
    const retry = ha.messagesFor(job(), meter, 'local', [volume]);
    expect(retry.messages.filter((m) => m.kind === 'discovery')).toHaveLength(2);
  });

  it('all() lists the bridge and every known meter for the birth re-publish; retained', () => {
    const ha = new HaDiscovery(OPTS);
    discover(meter, [volume], ha);
    discover({ ...meter, id: '11111111' }, [volume], ha);
    const { bridge, meters } = ha.all();
    expect([bridge, ...meters.map((m) => m.config)].map((c) => c.topic)).toEqual([
      'homeassistant/device/oms_parser_bridge/config', 'homeassistant/device/oms_sen_33225544/config', 'homeassistant/device/oms_sen_11111111/config',
    ]);
    expect(meters.map((m) => m.meter)).toEqual([{ id: '33225544', manufacturer: 'SEN' }, { id: '11111111', manufacturer: 'SEN' }]);
  });

  it('the birth re-publish leaves out (and forgets) meters deleted meanwhile, e.g. through another instance', async () => {
    const ha = new HaDiscovery(OPTS);
    discover(meter, [volume], ha);
    discover({ ...meter, id: '11111111' }, [volume], ha);
    const store = new SqliteStore(':memory:');
    await store.start();
    try {
      const seen = (meterId: string) => ({ meterId, manufacturer: 'SEN', gatewayId: 'gw-1', rssiDbm: null, at: Date.now(), errorCode: null, error: null, ingestId: meterId });
      for (const id of ['33225544', '11111111']) await store.recordMeterSeen(seen(id), { intervals: 3, minMs: 3_600_000 });
      await store.deleteMeter('33225544');
      const topics = (await birthConfigs(ha, store, silent)).map((c) => c.topic);
      expect(topics).toEqual(['homeassistant/device/oms_parser_bridge/config', 'homeassistant/device/oms_sen_11111111/config']);
      expect(ha.all().meters.map((m) => m.meter.id)).toEqual(['11111111']);
      // The database cannot tell: everything goes out.
      const broken = { matchMeters: () => Promise.reject(new Error('database down')) };
      expect(await birthConfigs(ha, broken, silent)).toHaveLength(2);
    } finally {
      await store.stop();
    }
  });

  it('no meter id, no device', () => {
    expect(new HaDiscovery(OPTS).messagesFor(job(null), { ...meter, id: null }, 'local', [volume]).messages).toEqual([]);
  });

  it('clearing a meter is an empty payload on its config topic', () => {
    expect(clearDiscovery('homeassistant', { id: '33225544', manufacturer: 'SEN' })).toEqual({ topic: 'homeassistant/device/oms_sen_33225544/config', payload: '' });
  });

  it('the reading carries the same flat state', () => {
    const j = { ...job(), gatewayId: 'gw-1', mode: 'T1', rawHex: '00', replay: false } as unknown as Job;
    const payload = readingPayload(j, { parser: 'local', meter, values: [volume, flow, { name: 'dateTime', value: '2026-01-01', unit: '' }], extra: {} }, false);
    expect(payload.state).toEqual({ volume_m3: 12.5, volume_flow_m3h: 0.1 });
  });
});
