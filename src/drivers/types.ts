/**
 * A meter driver is data: which telegrams it matches and where its named values are. The JSON
 * form is published as `schemas/driver.schema.json`; these types mirror it field by field.
 */

/** Byte area a field reads from. `apl`: the (decrypted) application payload; `mfct`: the bytes after
 * DIF 0F/1F or the payload of a manufacturer CI (A0–B7); `frame`: the whole frame without CRCs;
 * `record`: the data bytes of the standard record that `record` selects (e.g. an LVAR container);
 * `prios`: the descrambled payload of a Diehl/Sappel PRIOS frame (src/drivers/diehl-prios.ts);
 * `tlv`: the value of the element `tag` in the driver's tag-length list (`tlv`);
 * `decrypted`: the area the driver's `decrypt` step reads, with its ciphertext replaced by the plaintext
 * (same offsets; empty when there is no key or the plaintext check fails). */
export type DriverArea = 'apl' | 'mfct' | 'frame' | 'record' | 'prios' | 'tlv' | 'decrypted';

/**
 * A manufacturer's own encryption of part of an area (e.g. Apator NA-1: AES-128-CBC over 16 bytes of a
 * CI A0 payload). The key is the meter's configured key, else the driver's `defaultKey`.
 */
export interface DriverDecrypt {
  area: Exclude<DriverArea, 'tlv' | 'decrypted' | 'record'>;
  /** First encrypted byte in the area. */
  offset: number;
  /** Encrypted byte count, a multiple of 16. */
  length: number;
  mode: 'aes-128-cbc';
  /** `link-acc`: M ‖ ID ‖ version ‖ type of the link layer ‖ ACC×8, as TPL mode 5 (EN 13757-7 9.4.4); `zero`: 16 zero bytes. */
  iv: 'link-acc' | 'zero';
  /** For `link-acc`: offset of the access number in the area. */
  acc?: number;
  /** Plaintext bytes that prove the key: `hex` at `offset` from the first decrypted byte. */
  check?: { offset: number; hex: string };
}

/** A manufacturer's tag-length-value list: each element is one tag byte and a value whose length the tag fixes. */
export interface DriverTlv {
  area: Exclude<DriverArea, 'tlv'>;
  /** Where the first tag is. */
  offset: number;
  record?: DriverRecordSource;
  /** Tag (hex byte) → value length in bytes. An unknown tag ends the list. */
  lengths: Record<string, number>;
}

export type DriverEncoding =
  | 'uint-le' | 'uint-be' | 'int-le' | 'int-be'
  | 'bcd-le' | 'bcd-be'
  | 'float32-le'
  | 'bits'
  | 'date-g' | 'datetime-f' | 'datetime-i'
  /** Seconds since 2000-01-01 00:00, 32-bit little-endian (meter time of some manufacturer payloads). */
  | 'seconds-2000-le'
  | 'hex';

/** One piece of a bit-field value: `((byte[offset] >> shift) & mask) << place`. */
export interface DriverBitPart {
  offset: number;
  shift?: number;
  mask?: number;
  place?: number;
}

export interface DriverBytesSource {
  area: DriverArea;
  /** Byte offset in the area; negative counts from its end (-1 = last byte). */
  offset: number;
  /** Byte count; not used by `bits` (its parts say where) nor by the date encodings. */
  length?: number;
  encoding: DriverEncoding;
  /** For `bits`: offsets relative to `offset`. */
  parts?: DriverBitPart[];
  /** For area `record`: which record's data bytes. */
  record?: DriverRecordSource;
  /** For area `tlv`: the tag (hex byte) whose value is read; `offset` counts from the value's first byte. */
  tag?: string;
  /** The bytes are XOR-obfuscated by the manufacturer; undone before decoding. */
  xor?: DriverXor;
}

/** Byte i of a value = stored byte ^ key ^ table[key & 0x0F][i], key being the byte at `offset` of the same area. */
export interface DriverXor {
  offset: number;
  /** 16 rows of hex bytes, one per low nibble of the key; without it only the key is XORed in. */
  table?: string[];
}

/** Selects a standard data record. `vif` is the VIF and VIFE bytes in hex (e.g. "FF07", "13"). */
export interface DriverRecordSource {
  difVif?: string;
  vif?: string;
  quantity?: string;
  storage?: number;
  tariff?: number;
  subunit?: number;
  /** "raw" takes the record's unscaled value, "scaled" (default) its scaled value. */
  use?: 'raw' | 'scaled';
}

export interface DriverRepeat {
  count: number;
  /** Bytes between elements (negative: the array runs backwards). */
  stride: number;
  /** Number put into `{n}` of the name for the first element (default 1). */
  first?: number;
  /** Step of `{n}` (default 1). */
  step?: number;
}

export interface DriverField {
  /** Output name; `{n}` is replaced by the element number of a repeated field. */
  name: string;
  /** Quantity in Lobaro's words ("Volume", "Energy", "H.C.A.", "External temperature", "Date"). */
  quantity: string;
  /** Unit in Lobaro's spelling ("m^3", "Wh", "°C", "Units for H.C.A.", "V"); "" for none. */
  unit: string;
  bytes?: DriverBytesSource;
  record?: DriverRecordSource;
  /** Sum of fields defined earlier in this driver, by name (e.g. total = previous period + current period);
   * a name with a leading `-` is subtracted. */
  sum?: string[];
  /** Value is multiplied by the value of an earlier field (e.g. a coded multiplier), after `scale`. */
  times?: string;
  /** Computed for `sum` and `times` of later fields, but not output. */
  hidden?: boolean;
  /** Value = raw × scale (exact decimal arithmetic). Default 1. */
  scale?: number;
  /** Divisor applied after `scale` (meters that count in thirds); the result keeps 12 significant digits. */
  divide?: number;
  /** Raw value (decimal text) → value, for coded values such as battery voltage steps. */
  lookup?: Record<string, number>;
  /** Raw byte patterns (hex) that mean "no value" (e.g. "FFFFFF" before installation). */
  absent?: string[];
  repeat?: DriverRepeat;
  storage?: number;
  tariff?: number;
  subunit?: number;
}

export interface DriverMatch {
  /** Three-letter FLAG code, e.g. "BFW". */
  manufacturer: string;
  version?: number[];
  deviceType?: number[];
  /** First CI after the link layer, hex ("7A", "A2"). */
  ci?: string[];
  /** Bytes that must be present at an offset of an area. */
  bytes?: { area: Exclude<DriverArea, 'decrypted'>; offset: number; hex: string; record?: DriverRecordSource };
  /** A standard record (DIF…VIFE hex) that must be present. */
  hasRecord?: string;
}

export interface DriverDefinition {
  /** Lower-case id, reported in each reading's `driver` field. */
  id: string;
  description: string;
  /** Where the facts come from (public documentation, test telegrams). */
  source?: string;
  match: DriverMatch[];
  fields: DriverField[];
  /** Standard records (DIF…VIFE hex) the driver reinterprets; they are left out of the output. */
  hideRecords?: string[];
  /** Tag-length-value list the fields with area `tlv` read from. */
  tlv?: DriverTlv;
  /** Compact-frame formats of the model (DIF/VIF bytes, hex), so a CI 79 frame decodes before its full frame was seen. */
  formats?: string[];
  /** AES-128 key (hex) the manufacturer publishes as default; tried only when no key is configured. */
  defaultKey?: string;
  /** The manufacturer's own encryption, read by fields with area `decrypted`. */
  decrypt?: DriverDecrypt;
}
