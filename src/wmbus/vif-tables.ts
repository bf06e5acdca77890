/**
 * VIF tables of EN 13757-3:2018 (6.4.2 primary, Table 12 FD, Table 14 FB, Table 15 combinable
 * VIFEs). Unit and quantity strings are Lobaro's VifUnit/VifQuantity spellings (lobaro-api §5.1),
 * matched by meaning (oms-reference §5).
 */

/** How the data bytes of a record are to be read beyond the DIF's own data type. */
export type ValueKind = 'number' | 'date' | 'datetime' | 'id' | 'bits' | 'mfct';

export interface VifDef {
  unit: string;
  quantity: string;
  /** value × factor × 10^exp10 is in `unit`. factor ≠ 1 only for min/h/d durations shown in s. */
  exp10: number;
  factor: number;
  kind: ValueKind;
}

const DUR_FACTORS = [1, 60, 3600, 86400] as const;

function def(unit: string, quantity: string, exp10 = 0, kind: ValueKind = 'number', factor = 1): VifDef {
  return { unit, quantity, exp10, factor, kind };
}

function fill(t: (VifDef | undefined)[], from: number, count: number, f: (n: number) => VifDef): void {
  for (let n = 0; n < count; n++) t[from + n] = f(n);
}

const dur = (quantity: string) => (n: number) => def('s', quantity, 0, 'number', DUR_FACTORS[n & 3] ?? 1);

/** Primary VIF table indexed by VIF & 0x7F (EN 13757-3:2018 6.4.2). */
export const PRIMARY: readonly (VifDef | undefined)[] = (() => {
  const t: (VifDef | undefined)[] = new Array(128);
  fill(t, 0x00, 8, (n) => def('Wh', 'Energy', n - 3));
  fill(t, 0x08, 8, (n) => def('J', 'Energy', n));
  fill(t, 0x10, 8, (n) => def('m^3', 'Volume', n - 6));
  fill(t, 0x18, 8, (n) => def('kg', 'Mass', n - 3));
  fill(t, 0x20, 4, dur('On time'));
  fill(t, 0x24, 4, dur('Operating time'));
  fill(t, 0x28, 8, (n) => def('W', 'Power', n - 3));
  fill(t, 0x30, 8, (n) => def('J/h', 'Power', n));
  fill(t, 0x38, 8, (n) => def('m^3/h', 'Volume flow', n - 6));
  fill(t, 0x40, 8, (n) => def('m^3/min', 'Volume flow', n - 7));
  fill(t, 0x48, 8, (n) => def('m^3/s', 'Volume flow', n - 9));
  fill(t, 0x50, 8, (n) => def('kg/h', 'Mass flow', n - 3));
  fill(t, 0x58, 4, (n) => def('°C', 'Flow temperature', n - 3));
  fill(t, 0x5c, 4, (n) => def('°C', 'Return temperature', n - 3));
  fill(t, 0x60, 4, (n) => def('K', 'Temperature difference', n - 3));
  fill(t, 0x64, 4, (n) => def('°C', 'External temperature', n - 3));
  fill(t, 0x68, 4, (n) => def('bar', 'Pressure', n - 3));
  t[0x6c] = def('', 'Date', 0, 'date');
  t[0x6d] = def('', 'Time & Date', 0, 'datetime');
  t[0x6e] = def('Units for H.C.A.', 'H.C.A.');
  t[0x6f] = def('', 'Reserved');
  fill(t, 0x70, 4, dur('Averaging Duration'));
  fill(t, 0x74, 4, dur('Actuality Duration'));
  t[0x78] = def('', 'Fabrication No', 0, 'id');
  t[0x79] = def('', '(Enhanced) Identification', 0, 'id');
  t[0x7a] = def('', 'Bus Address', 0, 'id');
  t[0x7e] = def('', 'Any VIF');
  t[0x7f] = def('', 'Manufacturer specific', 0, 'mfct');
  return t;
})();

/** FD extension table (EN 13757-3:2018 Table 12). */
export const FD_TABLE: readonly (VifDef | undefined)[] = (() => {
  const t: (VifDef | undefined)[] = new Array(128);
  fill(t, 0x00, 4, (n) => def('Currency units', 'Credit', n - 3));
  fill(t, 0x04, 4, (n) => def('Currency units', 'Debit', n - 3));
  const ids = [
    'Access Number', 'Device type', 'Manufacturer', 'Parameter set identification', 'Model / Version',
    'Hardware version', 'Firmware version', 'Software version', 'Customer location', 'Customer',
    'Access Code User', 'Access Code Operator', 'Access Code System Operator', 'Access Code Developer', 'Password',
  ];
  for (const [i, q] of ids.entries()) t[0x08 + i] = def('', q, 0, 'id');
  t[0x17] = def('', 'Error flags', 0, 'bits');
  t[0x18] = def('', 'Error mask', 0, 'bits');
  t[0x19] = def('', 'Security key', 0, 'id');
  t[0x1a] = def('', 'Digital Output', 0, 'bits');
  t[0x1b] = def('', 'Digital Input', 0, 'bits');
  t[0x1c] = def('Baud', 'Baudrate', 0, 'id');
  t[0x1d] = def('Bittimes', 'Response delay time');
  t[0x1e] = def('', 'Retry', 0, 'id');
  t[0x1f] = def('', 'Remote control', 0, 'bits');
  t[0x20] = def('', 'First storage # for cyclic storage', 0, 'id');
  t[0x21] = def('', 'Last storage # for cyclic storage', 0, 'id');
  t[0x22] = def('', 'Size of storage block', 0, 'id');
  t[0x23] = def('', 'Descriptor for tariff and subunit', 0, 'id');
  fill(t, 0x24, 4, dur('Storage interval'));
  t[0x28] = def('months', 'Storage interval');
  t[0x29] = def('years', 'Storage interval');
  t[0x2a] = def('', 'Operator specific data');
  t[0x2b] = def('', 'Time point second');
  fill(t, 0x2c, 4, dur('Duration since last readout'));
  t[0x30] = def('', 'Start (date/time) of tariff', 0, 'datetime');
  fill(t, 0x31, 3, (n) => def('s', 'Duration of tariff', 0, 'number', DUR_FACTORS[n + 1] ?? 1));
  fill(t, 0x34, 4, dur('Period of tariff'));
  t[0x38] = def('months', 'Period of tariff');
  t[0x39] = def('years', 'Period of tariff');
  t[0x3a] = def('', 'Dimensionless');
  t[0x3b] = def('', 'Data container for wMBus');
  fill(t, 0x3c, 4, dur('Interval of data transmission'));
  fill(t, 0x40, 16, (n) => def('V', 'Voltage', n - 9));
  fill(t, 0x50, 16, (n) => def('A', 'Current', n - 12));
  t[0x60] = def('', 'Reset counter', 0, 'id');
  t[0x61] = def('', 'Cumulation counter', 0, 'id');
  t[0x62] = def('', 'Control signal', 0, 'bits');
  t[0x63] = def('', 'Day of week', 0, 'id');
  t[0x64] = def('', 'Week number', 0, 'id');
  t[0x65] = def('', 'Time point of day change', 0, 'id');
  t[0x66] = def('', 'State of parameter activation', 0, 'bits');
  t[0x67] = def('', 'Special supplier information', 0, 'bits');
  t[0x68] = def('s', 'Duration since last cumulation', 0, 'number', 3600);
  t[0x69] = def('s', 'Duration since last cumulation', 0, 'number', 86400);
  t[0x6a] = def('months', 'Duration since last cumulation');
  t[0x6b] = def('years', 'Duration since last cumulation');
  t[0x6c] = def('s', 'Operating time battery', 0, 'number', 3600);
  t[0x6d] = def('s', 'Operating time battery', 0, 'number', 86400);
  t[0x6e] = def('months', 'Operating time battery');
  t[0x6f] = def('years', 'Operating time battery');
  t[0x70] = def('', 'Date and time of battery change', 0, 'datetime');
  t[0x71] = def('dBm', 'Receiver sensitivity');
  t[0x72] = def('', 'Summertime (begin, end, deviation', 0, 'bits');
  t[0x73] = def('', 'Receive window management', 0, 'bits');
  t[0x74] = def('d', 'Remaining battery');
  t[0x75] = def('', 'Number of counter stops', 0, 'id');
  t[0x76] = def('', 'Datacontainer for manufactuerer specific protocol');
  return t;
})();

/** FB extension table (EN 13757-3:2018 Table 14); MWh/MW/t are shown in Wh/W/kg like Lobaro. */
export const FB_TABLE: readonly (VifDef | undefined)[] = (() => {
  const t: (VifDef | undefined)[] = new Array(128);
  fill(t, 0x00, 2, (n) => def('Wh', 'Energy', n + 5));
  fill(t, 0x02, 2, (n) => def('kVAR/h', 'Reactive energy', n));
  fill(t, 0x04, 2, (n) => def('kVA/h', 'Apparent energy', n));
  fill(t, 0x08, 2, (n) => def('GJ', 'Energy', n - 1));
  fill(t, 0x0c, 4, (n) => def('MCal', 'Energy', n - 1));
  fill(t, 0x10, 2, (n) => def('m^3', 'Volume', n + 2));
  fill(t, 0x14, 4, (n) => def('kVAR', 'Reactive power', n - 3));
  fill(t, 0x18, 2, (n) => def('kg', 'Mass', n + 5));
  fill(t, 0x1a, 2, (n) => def('%', 'Relative humidity', n - 1));
  t[0x20] = def('feet^3', 'Volume');
  t[0x21] = def('feet^3', 'Volume', -1);
  fill(t, 0x22, 2, (n) => def('American gallon', 'Volume', n - 1));
  fill(t, 0x24, 2, (n) => def('American gallon/min', 'Volume flow', 3 * n - 3));
  t[0x26] = def('American gallon/h', 'Volume flow');
  fill(t, 0x28, 2, (n) => def('W', 'Power', n + 5));
  t[0x2a] = def('°', 'Phase U-U', -1);
  t[0x2b] = def('°', 'Phase U-l', -1);
  fill(t, 0x2c, 4, (n) => def('Hz', 'Frequency', n - 3));
  fill(t, 0x30, 2, (n) => def('GJ/h', 'Power', n - 1));
  fill(t, 0x34, 4, (n) => def('kVA', 'Apparent power', n - 3));
  fill(t, 0x58, 4, (n) => def('°F', 'Flow temperature', n - 3));
  fill(t, 0x5c, 4, (n) => def('°F', 'Return temperature', n - 3));
  fill(t, 0x60, 4, (n) => def('°F', 'Temperature difference', n - 3));
  fill(t, 0x64, 4, (n) => def('°F', 'External temperature', n - 3));
  for (const [i, k] of ['K', 'Kq', 'Kc', 'Kcr', 'Kch', 'Kt', 'KD'].entries()) t[0x68 + i] = def('', `H.C.A. rating factor ${k}`, -3);
  fill(t, 0x70, 4, (n) => def('°F', 'Cold / Warm Temperature Limit', n - 3));
  fill(t, 0x74, 4, (n) => def('°C', 'Cold / Warm Temperature Limit', n - 3));
  fill(t, 0x78, 8, (n) => def('W', 'Cumul count max power', n - 3));
  return t;
})();

export const RESERVED: VifDef = def('', 'Reserved');

const PER_TIME = ['/s', '/min', '/h', '/d', '/week', '/month', '/year', '/revolution'] as const;
const PER_UNIT = ['/l', '/m^3', '/kg', '/K', '/kWh', '/GJ', '/kW', '/(K*l)', '/V', '/A'] as const;
const ERRORS: Record<number, string> = {
  0x00: 'None', 0x01: 'Too many DIFEs', 0x02: 'Storage number not implemented', 0x03: 'Unit number not implemented',
  0x04: 'Tariff number not implemented', 0x05: 'Function not implemented', 0x06: 'Data class not implemented',
  0x07: 'Data size not implemented', 0x0b: 'Too many VIFEs', 0x0c: 'Illegal VIF-Group', 0x0d: 'Illegal VIF-Exponent',
  0x0e: 'VIF/DIF mismatch', 0x0f: 'Unimplemented action', 0x15: 'No data available (undefined value)',
  0x16: 'Data overflow', 0x17: 'Data underflow', 0x18: 'Data error', 0x1c: 'Premature end of record',
};
const EXT_7C: Record<number, string> = {
  0x01: 'at phase L1', 0x02: 'at phase L2', 0x03: 'at phase L3', 0x04: 'at neutral (N)',
  0x05: 'between phase L1 and L2', 0x06: 'between phase L2 and L3', 0x07: 'between phase L3 and L1',
  0x08: 'at quadrant Q1', 0x09: 'at quadrant Q2', 0x0a: 'at quadrant Q3', 0x0b: 'at quadrant Q4',
  0x0c: 'delta between import and export', 0x10: 'accumulation of abs value for both positive and negative contribution',
  0x11: 'data presented with type C', 0x12: 'data presented with type D',
};

/** Mutable view of a record's meaning while its VIFEs are applied. */
export interface VifState {
  unit: string;
  quantity: string;
  exp10: number;
  factor: number;
  kind: ValueKind;
  desc: string;
  /** Additive correction in the record's unit (VIFE 78–7B), as decimal text. */
  offset: string;
  /** VIFE says the value is not valid (record error code). */
  error: boolean;
  /** Compact profile VIFE (1E registers, 1F compact, 13 inverse); '' when none. */
  profile: '' | 'compact' | 'inverse' | 'registers';
}

function addDesc(s: VifState, text: string): void {
  s.desc = s.desc === '' ? text : `${s.desc}; ${text}`;
}

/** Applies one combinable VIFE (EN 13757-3:2018 Table 15); `e` is without the extension bit. */
export function applyCombinable(s: VifState, e: number): void {
  if (e <= 0x0f || (e >= 0x15 && e <= 0x1c)) {
    addDesc(s, ERRORS[e] ?? `Record error 0x${e.toString(16)}`);
    if (e !== 0) s.error = true;
  } else if (e === 0x12) addDesc(s, 'Average value');
  else if (e === 0x13) { addDesc(s, 'Inverse compact profile'); s.profile = 'inverse'; }
  else if (e === 0x14) addDesc(s, 'Relative deviation');
  else if (e === 0x1d) addDesc(s, 'Standard conform data content');
  else if (e === 0x1e) { addDesc(s, 'Compact profile with register numbers'); s.profile = 'registers'; }
  else if (e === 0x1f) { addDesc(s, 'Compact profile'); s.profile = 'compact'; }
  // Lobaro's unit list has no compound units, and meters use "per month" for "of the last month":
  // per-quantity VIFEs stay descriptions and leave VifUnit alone.
  else if (e >= 0x20 && e <= 0x27) addDesc(s, `per ${(PER_TIME[e - 0x20] ?? '').slice(1)}`);
  else if (e >= 0x28 && e <= 0x2b) addDesc(s, `per pulse output channel ${e - 0x28}`);
  else if (e >= 0x2c && e <= 0x35) addDesc(s, `per ${(PER_UNIT[e - 0x2c] ?? '').slice(1)}`);
  else if (e === 0x36) addDesc(s, 'multiplied by s');
  else if (e === 0x37) addDesc(s, 'multiplied by s/V');
  else if (e === 0x38) addDesc(s, 'multiplied by s/A');
  else if (e === 0x39) { addDesc(s, 'Start date(/time) of'); s.kind = 'datetime'; }
  else if (e === 0x3a) addDesc(s, 'VIF contains uncorrected unit or value at metering conditions');
  else if (e === 0x3b) addDesc(s, 'Accumulation only if positive contributions (forward flow)');
  else if (e === 0x3c) addDesc(s, 'Accumulation of abs value only if negative contributions (backward flow)');
  else if (e === 0x3d) addDesc(s, 'Non-metric units');
  else if (e === 0x3e) addDesc(s, 'Value at base conditions');
  else if (e === 0x3f) addDesc(s, 'OBIS-declaration');
  else if (e >= 0x40 && e <= 0x4f) limitVife(s, e);
  else if (e >= 0x50 && e <= 0x67) {
    const u = e < 0x60 ? ((e & 0x08) !== 0 ? 'upper' : 'lower') : '';
    const f = (e & 0x04) !== 0 ? 'last' : 'first';
    addDesc(s, `Duration of ${f} ${u === '' ? '' : `${u} `}limit exceed`.replace('  ', ' '));
    s.unit = 's';
    s.quantity = 'Duration of limit exceed';
    s.exp10 = 0;
    s.factor = DUR_FACTORS[e & 3] ?? 1;
    s.kind = 'number';
  } else if (e === 0x68 || e === 0x6c) addDesc(s, `Value during ${e === 0x68 ? 'lower' : 'upper'} limit exceed`);
  else if (e === 0x69) addDesc(s, 'Leakage values');
  else if (e === 0x6d) addDesc(s, 'Overflow values');
  else if (e >= 0x6a && e <= 0x6f) {
    addDesc(s, `Date (/time) of ${(e & 0x04) !== 0 ? 'last' : 'first'} ${(e & 0x01) !== 0 ? 'end' : 'begin'}`);
    s.kind = 'datetime';
  } else if (e >= 0x70 && e <= 0x77) {
    s.exp10 += (e & 7) - 6;
    addDesc(s, `Multiplicative correction factor: 10^${(e & 7) - 6}`);
  } else if (e >= 0x78 && e <= 0x7b) {
    s.offset = `1e${(e & 3) - 3}`;
    addDesc(s, `Additive correction constant: 10^${(e & 3) - 3} * unit of VIF (offset)`);
  } else if (e === 0x7d) {
    s.exp10 += 3;
    addDesc(s, 'Multiplicative correction factor: 1000');
  } else if (e === 0x7e) addDesc(s, 'Future value');
  else addDesc(s, `Reserved VIFE 0x${e.toString(16)}`);
}

function limitVife(s: VifState, e: number): void {
  const u = (e & 0x08) !== 0 ? 'upper' : 'lower';
  const low = e & 0x07;
  if (low === 0) addDesc(s, `${u === 'upper' ? 'Upper' : 'Lower'} limit value`);
  else if (low === 1) {
    addDesc(s, `Number of exceeds of ${u} limit`);
    s.unit = '';
    s.quantity = 'Number of limit exceeds';
    s.exp10 = 0;
    s.factor = 1;
    s.kind = 'number';
  } else if ((low & 0x02) !== 0) {
    addDesc(s, `Date (/time) of ${(e & 0x01) !== 0 ? 'end' : 'begin'} of ${(e & 0x04) !== 0 ? 'last' : 'first'} ${u} limit exceed`);
    s.kind = 'datetime';
  } else addDesc(s, `Reserved VIFE 0x${e.toString(16)}`);
}

/** Second byte after combinable VIFE 7C (EN 13757-3:2018 Table 16). */
export function applyCombinableExt(s: VifState, e: number): void {
  addDesc(s, EXT_7C[e] ?? `Reserved extension VIFE 0x${e.toString(16)}`);
  if (e === 0x11) s.kind = 'id';
  if (e === 0x12) s.kind = 'bits';
}
