export { WmbusError } from './errors.js';
export { decode, parseHeader, PARSER_VERSION } from './decode.js';
export { FormatCache } from './format-signature.js';
export { toValues } from './values.js';
export { applyMappings } from './mapping.js';
