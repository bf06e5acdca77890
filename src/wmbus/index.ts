export { WmbusError, type WmbusErrorCode } from './errors.js';
export { decode, parseHeader, PARSER_VERSION, type DecodeOptions, type HeaderOptions, type TelegramHeader } from './decode.js';
export { FormatCache } from './format-signature.js';
export { toValues, type DecodedValue } from './values.js';
export { applyMappings, type Mapping, type MappingFilter, type MappingConfig, type MeteringDomainModel, type DomainValue } from './mapping.js';
export type { WmbusResult, WmbusRecord, WmbusHeader, WmbusBody, WmbusEll, WmbusAfl } from './types.js';
export { keyDiagnosis, type KeyDiagnosis, type KeyProblem } from './key-diagnosis.js';
export { isComplete, readFragment, reassembleAfl, type AflFragment } from './afl-fragments.js';
