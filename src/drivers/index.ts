export { applyDrivers, runDriver, STANDARD_DRIVER } from './interpreter.js';
export { DriverRegistry, type CompiledDriver } from './registry.js';
export type { DriverDefinition, DriverField, DriverMatch } from './types.js';
export { decodeWithDrivers } from './decode.js';
