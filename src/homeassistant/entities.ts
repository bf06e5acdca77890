import type { NormalizedValue } from '../publish/payloads.js';

/** A value as decoders emit it; storage, tariff, subunit and function tell registers of one quantity apart. */
type Value = NormalizedValue & { storage?: number; tariff?: number; subunit?: number; function?: string; description?: string };

/** wM-Bus device types (EN 13757-7 table 12) whose volume is water or gas, for HA's device class. */
const WATER_TYPES = new Set([0x06, 0x07, 0x15, 0x16, 0x17]);
const GAS_TYPES = new Set([0x03]);

export type StateClass = 'measurement' | 'total' | 'total_increasing';

/** What Home Assistant needs to show one value: its key in the flat state and its sensor description. */
export interface EntitySpec {
  /** Key in the flat state object, e.g. `volume_m3`, `energy_kwh_s1`. */
  key: string;
  /** Readable name, e.g. "Volume", "Energy (storage 1)". */
  name: string;
  deviceClass?: string;
  unit?: string;
  stateClass?: StateClass;
  /** False for historic values (storage ≥ 1): HA creates the entity disabled, the user may enable it. */
  enabledByDefault?: boolean;
  /** Scaled to `unit` (Lobaro units are not always HA units: J → MJ, J/h → W). */
  value: number | string;
}

interface UnitRule {
  /** HA unit; undefined = none. */
  unit?: string;
  /** Suffix of the state key. */
  suffix: string;
  factor?: number;
  deviceClass?: string;
  /** True for counters that only grow between resets (meter totals). */
  total?: boolean;
}

// Lobaro VifUnit spelling → HA unit. Device classes and units as allowed by HA's sensor
// entity docs (a device class with a unit outside its list is rejected by HA).
const UNITS: Record<string, UnitRule> = {
  'm^3': { unit: 'm³', suffix: 'm3', deviceClass: 'volume', total: true },
  l: { unit: 'L', suffix: 'l', deviceClass: 'volume', total: true },
  Wh: { unit: 'Wh', suffix: 'wh', deviceClass: 'energy', total: true },
  kWh: { unit: 'kWh', suffix: 'kwh', deviceClass: 'energy', total: true },
  J: { unit: 'MJ', suffix: 'mj', factor: 1e-6, deviceClass: 'energy', total: true },
  W: { unit: 'W', suffix: 'w', deviceClass: 'power' },
  'J/h': { unit: 'W', suffix: 'w', factor: 1 / 3600, deviceClass: 'power' },
  'm^3/h': { unit: 'm³/h', suffix: 'm3h', deviceClass: 'volume_flow_rate' },
  '°C': { unit: '°C', suffix: 'c', deviceClass: 'temperature' },
  // A temperature difference: HA's temperature class would convert it as an absolute temperature.
  K: { unit: 'K', suffix: 'k' },
  V: { unit: 'V', suffix: 'v', deviceClass: 'voltage' },
  A: { unit: 'A', suffix: 'a', deviceClass: 'current' },
  bar: { unit: 'bar', suffix: 'bar', deviceClass: 'pressure' },
  s: { unit: 's', suffix: 's', deviceClass: 'duration' },
  min: { unit: 'min', suffix: 'min', deviceClass: 'duration' },
  h: { unit: 'h', suffix: 'h', deviceClass: 'duration' },
  d: { unit: 'd', suffix: 'd', deviceClass: 'duration' },
  kg: { unit: 'kg', suffix: 'kg', deviceClass: 'weight', total: true },
  Hz: { unit: 'Hz', suffix: 'hz', deviceClass: 'frequency' },
  // Heat cost allocator units are dimensionless counts.
  'Units for H.C.A.': { suffix: '', total: true },
  // Spellings of mapped Metering Domain Models.
  'm³': { unit: 'm³', suffix: 'm3', deviceClass: 'volume', total: true },
  L: { unit: 'L', suffix: 'l', deviceClass: 'volume', total: true },
  MWh: { unit: 'MWh', suffix: 'mwh', deviceClass: 'energy', total: true },
  MJ: { unit: 'MJ', suffix: 'mj', deviceClass: 'energy', total: true },
  GJ: { unit: 'GJ', suffix: 'gj', deviceClass: 'energy', total: true },
  kW: { unit: 'kW', suffix: 'kw', deviceClass: 'power' },
  'm³/h': { unit: 'm³/h', suffix: 'm3h', deviceClass: 'volume_flow_rate' },
};

/** Quantities that count up although their unit says nothing about it. */
const COUNTERS = new Set(['hca', 'onTime', 'operatingTime']);

/** Names that are the meter's own bookkeeping, not a measured value: no sensor. */
const SKIPPED = new Set(['dateTime', 'date', 'summertime', 'errorFlags', 'accessNumber', 'manufacturerSpecific']);

/** Value names and units repeat in every reading: the regex work is done once per distinct string (bounded). */
const snakeCache = new Map<string, string>();

function snake(name: string): string {
  let out = snakeCache.get(name);
  if (out === undefined) {
    out = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase().replace(/^_+|_+$/g, '') || 'value';
    if (snakeCache.size >= 2_000) snakeCache.clear();
    snakeCache.set(name, out);
  }
  return out;
}

function title(name: string): string {
  const words = snake(name).split('_');
  const text = words.join(' ');
  return name === 'hca' ? 'Heat cost allocation' : text.charAt(0).toUpperCase() + text.slice(1);
}

function round(v: number): number {
  return Number.parseFloat(v.toPrecision(12));
}

/** Extra parts that tell two values of one quantity apart (historic storage, tariff, max/min). */
function qualifiers(v: Value): Array<[string, string]> {
  const q: Array<[string, string]> = [];
  if (v.storage) q.push([`s${v.storage}`, `storage ${v.storage}`]);
  if (v.tariff) q.push([`t${v.tariff}`, `tariff ${v.tariff}`]);
  if (v.subunit) q.push([`u${v.subunit}`, `subunit ${v.subunit}`]);
  if (v.function) q.push([v.function, v.function]);
  if (v.description) q.push([snake(v.description).slice(0, 32), v.description]);
  return q;
}

/**
 * Describes each value a reading carries, for the flat state and HA discovery.
 * Derived from the decoded values only: a meter gets a sensor exactly for what it sends.
 * Dates, error flags and the meter clock are skipped; text values (firmware version …)
 * become plain sensors without a class.
 */
export function entitiesOf(values: NormalizedValue[], deviceType: number | null): EntitySpec[] {
  const out: EntitySpec[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    const v = raw as Value;
    if (v.value === null || SKIPPED.has(v.name)) continue;
    const rule = UNITS[v.unit];
    const q = qualifiers(v);
    const unitSuffix = rule?.suffix ?? (v.unit === '' ? '' : snake(v.unit));
    let key = [snake(v.name), unitSuffix, ...q.map((x) => x[0])].filter((x) => x !== '').join('_');
    for (let n = 2; seen.has(key); n++) key = `${key.replace(/_\d+$/, '')}_${n}`;
    seen.add(key);
    const name = q.length === 0 ? title(v.name) : `${title(v.name)} (${q.map((x) => x[1]).join(', ')})`;
    if (typeof v.value === 'string') {
      const text: EntitySpec = { key, name, value: v.value };
      if (v.storage) text.enabledByDefault = false;
      out.push(text);
      continue;
    }
    const spec: EntitySpec = { key, name, value: round(v.value * (rule?.factor ?? 1)) };
    if (rule?.unit !== undefined) spec.unit = rule.unit;
    else if (v.unit !== '' && rule === undefined) spec.unit = v.unit;
    if (v.storage) spec.enabledByDefault = false;
    let deviceClass = rule?.deviceClass;
    if (deviceClass === 'volume' && deviceType !== null) {
      if (WATER_TYPES.has(deviceType)) deviceClass = 'water';
      // HA's gas class takes m³ but not every volume unit.
      else if (GAS_TYPES.has(deviceType) && spec.unit === 'm³') deviceClass = 'gas';
    }
    const isTotal = (rule?.total ?? false) || COUNTERS.has(v.name);
    if (deviceClass !== undefined && !(isTotal && v.function !== undefined && deviceClass !== 'duration')) spec.deviceClass = deviceClass;
    if (!isTotal || v.function !== undefined) spec.stateClass = 'measurement';
    // Historic values (a storage number) and tariff registers are totals that jump, not a live counter.
    else spec.stateClass = q.length === 0 ? 'total_increasing' : 'total';
    out.push(spec);
  }
  return out;
}

/** The compact state a reading carries for consumers that want `{"volume_m3": 123.4}` and no parse tree. */
export function flatState(entities: EntitySpec[]): Record<string, number | string> {
  const state: Record<string, number | string> = {};
  for (const e of entities) state[e.key] = e.value;
  return state;
}
