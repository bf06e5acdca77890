/**
 * Device type (medium) byte, EN 13757-7:2018 device type table; names are Lobaro's
 * DeviceString spellings (oms-reference §1).
 */
const NAMES = [
    'Other', 'Oil', 'Electricity', 'Gas', 'Heat', 'Steam', 'Warm Water', 'Water',
    'Heat Cost', 'Compressed Air', 'Cooling load meter (outlet)', 'Cooling load meter (inlet)',
    'Heat (inlet)', 'Heat / Cooling load meter', 'Bus / System component', 'Unknown',
    'consumption meter', 'consumption meter', 'consumption meter', 'consumption meter',
    'Calorific value', 'Hot Water', 'Cold Water', 'Dual Water meter',
    'Pressure', 'A/D Converter', 'Smoke detector', 'Room', 'Gas detector',
    'Sensor', 'Sensor', 'Sensor',
    'Breaker', 'Valve', 'Switching device', 'Switching device', 'Switching device',
    'Customer unit', 'Customer unit', 'Customer unit',
    'Waste water', 'Garbage', 'Carbon dioxide', 'Environmental meter', 'Environmental meter',
    'Environmental meter', 'Environmental meter', 'Environmental meter',
    'System device', 'Communication controller', 'Unidirectional repeater', 'Bidirectional repeater',
    'System device', 'System device', 'Radio converter (system side)', 'Radio converter (meter side)',
    'Bus converter (meter side)',
];
export function deviceTypeName(t) {
    return NAMES[t] ?? 'Reserved';
}
