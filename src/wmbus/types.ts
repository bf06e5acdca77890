/**
 * The "Lobaro wMbus JSON" shape (lobaro-api.md §2.1/§2.4) produced by `decode()`. Field names are
 * Lobaro's; fields Lobaro does not document are marked as extensions.
 */

/** One data record of the application layer (EN 13757-3 §6). */
export interface WmbusRecord {
  /** Number of data bytes (LVAR: without the length byte). */
  DifDataLength: number;
  /** "Current Value", "Maximum Value", "Minimum Value", "Value during error state". */
  DifFunctionString: string;
  /** Data field coding, e.g. "BCD (8 digits)". */
  DifDataFormat: string;
  DifSubunit: number;
  /** Lobaro unit spelling ("m^3", "Wh", "°C"); "" when the quantity has none. */
  VifUnit: string;
  VifQuantity: string;
  /** Multiplier from `Value` to `ValueScaled` (e.g. 0.01). */
  VifExponent: number;
  /** Combinable VIFEs in words, "; "-separated; "" when none. */
  VifEDescription: string;
  /** Raw value: BCD digits or binary integer (dates: the data bytes as LE unsigned integer). */
  Value: number;
  /** Value × VifExponent (+ additive correction). */
  ValueScaled: number;
  /** Exact decimal text of ValueScaled, RFC 3339 for dates, the text for text records. */
  ValueString: string;
  Tariff: number;
  StorageNo: number;
  /** `0x` + DIF, DIFEs, VIF, VIFEs. */
  DifVif: string;
  /** `0x` + data bytes. */
  Data: string;
  /** Extension: the data bytes were not a valid value (non-decimal BCD, NaN, record error VIFE). */
  ValueInvalid?: boolean;
  /** Extension: the field name a meter driver gave this value (src/drivers). */
  Name?: string;
  /** Extension: a compact profile (VIFE 1E/1F/13) expanded to its dated values (src/wmbus/compact-profile.ts). */
  Profile?: WmbusProfile;
}

/** A compact profile record's series (EN 13757-3:2018 Annex F). */
export interface WmbusProfile {
  /** `registers` = VIFE 1E, `compact` = 1F, `inverse` = 13 (time runs back from the base time). */
  Type: 'compact' | 'inverse' | 'registers';
  IncrementMode: 'absolute' | 'increments' | 'decrements' | 'difference';
  /** "15 min", "1 h", "1 month", "array", "half month", "reserved". */
  Spacing: string;
  Entries: Array<{
    /** The profile record's storage number + 1, + 2, … */
    StorageNo: number;
    /** Scaled like the record's VIF; null when the element was invalid or an increment had no base value. */
    ValueScaled: number | null;
    ValueString: string;
    /** Base time shifted by the spacing (RFC 3339 or YYYY-MM-DD); absent without a base time or for arrays. */
    Date?: string;
  }>;
}

/** TPL header (EN 13757-7 §7.5); long-header identity is empty/0 for a short header. */
export interface WmbusHeader {
  Serial: number;
  IdString: string;
  ManufacturerCode: number;
  MFieldCodeString: string;
  MFieldLongString: string;
  Version: number;
  DeviceType: string;
  DeviceString: string;
  EncryptionMode: number;
  EncryptionModeString: string;
  EncryptedBlocks: number;
  HopCount: number;
  IsAccessible: boolean;
  IsBidirectionalMode: boolean;
  IsSynchronous: boolean;
  ReservedBit: boolean;
  TelegramType: number;
  AccessNumber: number;
  StatusByte: number;
  ConfigField: number[];
  /** Extension (mode 7): configuration field extension, KDF selection and key id. */
  ConfigFieldExtension?: number;
  KdfSelection?: number;
  KeyId?: number;
}

/** Extended link layer (EN 13757-4 §13.2, CI 8C–8F); Lobaro does not document its shape. */
export interface WmbusEll {
  CiField: string;
  CommunicationControl: number;
  AccessNumber: number;
  /** Session number field (8D/8F), LE. */
  SessionNumber?: number;
  /** SN bits 31–29: 0 none, 1 AES-128-CTR. */
  EncryptionMode: number;
  PayloadCrc?: number;
  PayloadCrcValid?: boolean;
  /** ELL address of the other party (8E/8F). */
  MFieldCodeString?: string;
  IdString?: string;
  Version?: number;
  DeviceType?: string;
}

/** Authentication and fragmentation layer (EN 13757-7 clause 6, CI 90). */
export interface WmbusAfl {
  FragmentationControl: number;
  FragmentId: number;
  MoreFragments: boolean;
  MessageControl?: number;
  AuthenticationType?: number;
  KeyInformation?: number;
  MessageCounter?: number;
  Mac?: string;
  MessageLength?: number;
  /** true/false once a key allowed checking the MAC; absent otherwise. */
  MacValid?: boolean;
}

export interface WmbusBody {
  /** Application payload after decryption (incl. 2F fill), `0x`-hex. */
  Raw: string;
  DataRecords: WmbusRecord[];
  PayloadKnown: boolean;
  IsEncrypted: boolean;
  DecryptionFailed: boolean;
  BlockCiField: number;
  BodyParseError?: string;
  /** Extension: bytes after DIF 0F/1F, or the payload of a manufacturer-specific CI (A0–B7). */
  ManufacturerData?: string;
  /** Extension: DIF 1F said more records follow in the next telegram. */
  MoreRecordsFollow?: boolean;
}

export interface WmbusResult {
  Raw: string;
  RawWithCrc: string;
  FrameFormat: string;
  Length: number;
  CField: string;
  CFieldString: string;
  MField: string;
  MFieldCodeString: string;
  MFieldLongString: string;
  Id: number;
  IdString: string;
  Version: number;
  Device: string;
  DeviceString: string;
  CiField: string;
  HeaderKnown: boolean;
  PayloadKnown: boolean;
  CrcValid: boolean;
  HasCrc: boolean;
  SourceType: 'WMBUS' | 'MBUS';
  IsCompactFrame: boolean;
  FormatSignature: number;
  FormatFrame: string;
  ParserVersion: string;
  Header: WmbusHeader;
  Ell: WmbusEll | null;
  Afl: WmbusAfl | null;
  Body: WmbusBody;
  /** Upper-case hex SHA-256 of the key bytes; absent without a key. */
  KeyIdentifier?: string;
  /** Extension: encrypted per header, but the payload was already plaintext (2F2F / ELL CRC ok). */
  AlreadyDecrypted: boolean;
  /**
   * Extension: the payload was encrypted and a key decrypted it into a payload that checked
   * (2F2F or ELL CRC; the AFL MAC too when sent). False for unencrypted telegrams and for
   * plaintext taken as already decrypted: nothing proves who wrote those.
   */
  Authenticated: boolean;
  /** Extension: CI layers in order, e.g. ["0x8c", "0x90", "0x7a"]. */
  CiChain: string[];
  /** Extension: ID of a long TPL header (radio adapter: the meter behind it). */
  TplIdString?: string;
  /** Extension: notes on lenient decoding (L-field mismatch, added L-field, …). */
  Warnings?: string[];
  /** Extension: the meter driver that interpreted the payload (driver id), or "oms" for standard decoding only. */
  Driver?: string;
  /** Extension: decrypted with the manufacturer's published default key (no key was configured). */
  DefaultKeyUsed?: boolean;
  /** Extension: why the telegram did not decrypt (src/wmbus/key-diagnosis.ts); absent when it did. */
  KeyDiagnosis?: { problem: 'key_missing' | 'wrong_key' | 'truncated' | 'unsupported_mode'; detail: string };
}
