/**
 * Field rules of Home Assistant's MQTT discovery, as documented for the MQTT
 * integration (device-based discovery, sensor and binary_sensor platforms) and
 * the sensor entity (device classes, their units and state classes). Returns the
 * problems found; [] = HA would accept the payload.
 */

const OBJECT_ID = /^[A-Za-z0-9_-]+$/;

/** Units HA accepts per sensor device class (sensor entity docs). */
const UNITS: Record<string, readonly string[]> = {
  energy: ['Wh', 'kWh', 'MWh', 'GWh', 'TWh', 'mWh', 'J', 'kJ', 'MJ', 'GJ', 'cal', 'kcal', 'Mcal', 'Gcal'],
  water: ['L', 'gal', 'm³', 'ft³', 'CCF'],
  gas: ['m³', 'ft³', 'CCF'],
  volume: ['L', 'mL', 'gal', 'fl. oz.', 'm³', 'ft³', 'CCF'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW'],
  temperature: ['°C', '°F', 'K'],
  volume_flow_rate: ['m³/h', 'ft³/min', 'L/min', 'gal/min', 'mL/s'],
  voltage: ['µV', 'mV', 'V', 'kV', 'MV'],
  current: ['mA', 'A'],
  pressure: ['Pa', 'kPa', 'hPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi'],
  duration: ['d', 'h', 'min', 's', 'ms'],
  weight: ['kg', 'g', 'mg', 'µg', 'oz', 'lb', 'st'],
  frequency: ['Hz', 'kHz', 'MHz', 'GHz'],
  signal_strength: ['dB', 'dBm'],
  timestamp: [],
};

/** State classes HA allows per device class; classes not listed allow any. */
const STATE_CLASSES: Record<string, readonly string[]> = {
  energy: ['total', 'total_increasing'],
  water: ['total', 'total_increasing'],
  gas: ['total', 'total_increasing'],
  volume: ['total', 'total_increasing'],
  power: ['measurement'],
  temperature: ['measurement'],
  volume_flow_rate: ['measurement'],
  voltage: ['measurement'],
  current: ['measurement'],
  signal_strength: ['measurement'],
  frequency: ['measurement'],
  timestamp: [],
};

const SENSOR_KEYS = new Set([
  'p', 'name', 'unique_id', 'device_class', 'unit_of_measurement', 'state_class', 'value_template', 'expire_after',
  'entity_category', 'enabled_by_default', 'state_topic', 'icon', 'suggested_display_precision', 'force_update',
]);
const BINARY_SENSOR_KEYS = new Set(['p', 'name', 'unique_id', 'device_class', 'entity_category', 'state_topic', 'payload_on', 'payload_off', 'value_template', 'expire_after']);
const DEVICE_KEYS = new Set(['ids', 'identifiers', 'name', 'mf', 'manufacturer', 'mdl', 'model', 'sn', 'serial_number', 'sw', 'sw_version', 'hw', 'via_device', 'cns']);
const ROOT_KEYS = new Set(['dev', 'device', 'o', 'origin', 'cmps', 'components', 'state_topic', 'availability_topic', 'payload_available', 'payload_not_available', 'availability', 'qos']);

const isTopic = (t: unknown): boolean => typeof t === 'string' && t !== '' && !/[+#]/.test(t);

export function validateDeviceDiscovery(topic: string, payloadText: string, prefix = 'homeassistant'): string[] {
  const problems: string[] = [];
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== prefix || parts[1] !== 'device' || parts[3] !== 'config' || !OBJECT_ID.test(parts[2] ?? '')) {
    problems.push(`topic ${topic}: must be ${prefix}/device/<object_id>/config with object_id of [A-Za-z0-9_-]`);
  }
  let p: Record<string, any>;
  try {
    p = JSON.parse(payloadText) as Record<string, any>;
  } catch {
    return [...problems, 'payload is not JSON'];
  }
  for (const k of Object.keys(p)) if (!ROOT_KEYS.has(k)) problems.push(`unknown key ${k}`);
  const dev = p.dev ?? p.device;
  if (typeof dev !== 'object' || dev === null) problems.push('dev: required');
  else {
    const ids = dev.ids ?? dev.identifiers;
    if (!(typeof ids === 'string' && ids !== '') && !(Array.isArray(ids) && ids.length > 0 && ids.every((x: unknown) => typeof x === 'string' && x !== ''))) problems.push('dev.ids: required, a string or list of strings');
    for (const k of Object.keys(dev)) if (!DEVICE_KEYS.has(k)) problems.push(`dev: unknown key ${k}`);
  }
  const o = p.o ?? p.origin;
  if (typeof o?.name !== 'string' || o.name === '') problems.push('o.name: required in device-based discovery');
  const cmps = p.cmps ?? p.components;
  if (typeof cmps !== 'object' || cmps === null || Object.keys(cmps).length === 0) return [...problems, 'cmps: required, at least one component'];
  if (p.qos !== undefined && ![0, 1, 2].includes(p.qos)) problems.push('qos: 0, 1 or 2');
  if (p.availability_topic !== undefined && !isTopic(p.availability_topic)) problems.push('availability_topic: a topic without wildcards');
  const uniqueIds = new Set<string>();
  for (const [id, c] of Object.entries(cmps as Record<string, Record<string, any>>)) {
    const at = `cmps.${id}`;
    if (!OBJECT_ID.test(id)) problems.push(`${at}: component id must be [A-Za-z0-9_-]`);
    if (c.p !== 'sensor' && c.p !== 'binary_sensor') {
      problems.push(`${at}.p: sensor or binary_sensor expected, got ${String(c.p)}`);
      continue;
    }
    const allowed = c.p === 'sensor' ? SENSOR_KEYS : BINARY_SENSOR_KEYS;
    for (const k of Object.keys(c)) if (!allowed.has(k)) problems.push(`${at}: unknown key ${k}`);
    if (typeof c.unique_id !== 'string' || c.unique_id === '') problems.push(`${at}.unique_id: required in device-based discovery`);
    else if (uniqueIds.has(c.unique_id)) problems.push(`${at}.unique_id: duplicate ${c.unique_id}`);
    else uniqueIds.add(c.unique_id);
    if (!isTopic(c.state_topic ?? p.state_topic)) problems.push(`${at}: state_topic required (own or shared)`);
    if (c.entity_category !== undefined && !['config', 'diagnostic'].includes(c.entity_category)) problems.push(`${at}.entity_category: config or diagnostic`);
    if (c.expire_after !== undefined && !(Number.isInteger(c.expire_after) && c.expire_after > 0)) problems.push(`${at}.expire_after: positive integer seconds`);
    if (c.enabled_by_default !== undefined && typeof c.enabled_by_default !== 'boolean') problems.push(`${at}.enabled_by_default: boolean`);
    if (c.value_template !== undefined && !/^\{\{.*\}\}$/.test(c.value_template)) problems.push(`${at}.value_template: a template`);
    if (c.p === 'binary_sensor') {
      if (c.device_class !== undefined && !['connectivity', 'problem', 'battery'].includes(c.device_class)) problems.push(`${at}.device_class: unexpected ${c.device_class}`);
      continue;
    }
    const dc = c.device_class as string | undefined;
    const unit = c.unit_of_measurement as string | undefined;
    const sc = c.state_class as string | undefined;
    if (sc !== undefined && !['measurement', 'total', 'total_increasing'].includes(sc)) problems.push(`${at}.state_class: unknown ${sc}`);
    if (dc !== undefined) {
      const units = UNITS[dc];
      if (!units) problems.push(`${at}.device_class: unknown ${dc}`);
      else if (dc === 'timestamp') {
        if (unit !== undefined || sc !== undefined) problems.push(`${at}: a timestamp has no unit and no state_class`);
      } else if (unit === undefined || !units.includes(unit)) problems.push(`${at}.unit_of_measurement: ${String(unit)} is not a unit of ${dc} (${units.join(', ')})`);
      const classes = STATE_CLASSES[dc];
      if (classes && sc !== undefined && !classes.includes(sc)) problems.push(`${at}.state_class: ${sc} not allowed with ${dc}`);
    }
  }
  return problems;
}
