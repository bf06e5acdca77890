import { describe, expect, it } from 'vitest';
import { keyContext, newKeyContext } from '../../../src/wmbus/aes.js';
import { cmac } from '../../../src/wmbus/cmac.js';
import { hex, toBytes } from '../../../src/wmbus/hex.js';
import { decode, parseHeader } from '../../../src/wmbus/index.js';
import { deriveMode7Keys } from '../../../src/wmbus/security.js';

const OMS_KEY = '0102030405060708090A0B0C0D0E0F11';
const OMS_A = '2e44931578563412330333637a2a0020055923c95aaa26d1b2e7493b2a8b013ec4a6f6d3529b520edff0ea6defc955b29d6d69ebf3ec8a';
const OMS_PLAIN = '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3';
const KEY_00_0F = '000102030405060708090A0B0C0D0E0F';
const PROFILE_B = '434493157856341233038c2075900f002c25b30a000021924d4f2fb66e017a75002007109058475f4bc91df878b80a1b0f98b629024aac727942bfc549233c0140829b93';

/** lobaro-api.md §2.1, the documented response for the OMS example (parser lib 1.11.3). */
const LOBARO_EXAMPLE = {
  Raw: `0x${OMS_PLAIN}`,
  RawWithCrc: `0x${OMS_A}`,
  FrameFormat: 'A', Length: 46, CField: '0x44', CFieldString: '0x44 (SND_NR)', MField: '0x9315',
  MFieldCodeString: 'ELS', MFieldLongString: 'Elster GmbH, Germany, Europe', Id: 305419896, IdString: '12345678',
  Version: 51, Device: '0x03', DeviceString: 'Gas', CiField: '0x7a', HeaderKnown: true, PayloadKnown: true,
  CrcValid: true, HasCrc: true, SourceType: 'WMBUS', IsCompactFrame: false, FormatSignature: 61330,
  FormatFrame: '0x0c14046d02fd17',
  Header: {
    Serial: 0, IdString: '', ManufacturerCode: 0, MFieldCodeString: '', MFieldLongString: '', Version: 0,
    DeviceType: '0x00', DeviceString: '', EncryptionMode: 5, EncryptionModeString: 'AES with CBC', EncryptedBlocks: 2,
    HopCount: 0, IsAccessible: false, IsBidirectionalMode: false, IsSynchronous: false, ReservedBit: false,
    TelegramType: 0, AccessNumber: 42, StatusByte: 0, ConfigField: [32, 5],
  },
  Ell: null,
  Afl: null,
  Body: {
    Raw: '0x2f2f0c1427048502046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f',
    DataRecords: [
      { DifDataLength: 4, DifFunctionString: 'Current Value', DifDataFormat: 'BCD (8 digits)', DifSubunit: 0, VifUnit: 'm^3',
        VifQuantity: 'Volume', VifExponent: 0.01, VifEDescription: '', Value: 2850427, ValueScaled: 28504.27,
        ValueString: '28504.27', Tariff: 0, StorageNo: 0, DifVif: '0x0c14', Data: '0x27048502' },
      { DifDataLength: 4, DifFunctionString: 'Current Value', DifDataFormat: 'signed binary (32 bits), or date/time in F format',
        DifSubunit: 0, VifUnit: '', VifQuantity: 'Time & Date', VifExponent: 1, VifEDescription: '', Value: 354367282,
        ValueScaled: 354367282, ValueString: '2008-05-31T23:50:00Z', Tariff: 0, StorageNo: 0, DifVif: '0x046d', Data: '0x32371f15' },
      { DifDataLength: 2, DifFunctionString: 'Current Value', DifDataFormat: 'signed binary (16 bits), or date in G format',
        DifSubunit: 0, VifUnit: '', VifQuantity: 'Error flags', VifExponent: 1, VifEDescription: '', Value: 0, ValueScaled: 0,
        ValueString: '0', Tariff: 0, StorageNo: 0, DifVif: '0x02fd17', Data: '0x0000' },
    ],
    PayloadKnown: true, IsEncrypted: false, DecryptionFailed: false, BlockCiField: 0,
  },
  KeyIdentifier: '6CDF4E13B88E3B890A803C4EECF8B89D60916C2E4E3C5CB32818F06A56BB60B5',
};

describe('mode 5 (AES-128-CBC)', () => {
  it('reproduces Lobaro\'s documented response for the OMS example', () => {
    const r = decode(OMS_A, { key: OMS_KEY });
    expect(r).toMatchObject(LOBARO_EXAMPLE);
    expect(r.AlreadyDecrypted).toBe(false);
  });

  it('decodes the CRC-less form identically and takes the key as bytes', () => {
    const r = decode(OMS_PLAIN, { key: toBytes(OMS_KEY) });
    expect(r.Body).toEqual(LOBARO_EXAMPLE.Body);
    expect(r.KeyIdentifier).toBe(LOBARO_EXAMPLE.KeyIdentifier);
  });

  it('flags a missing key without records', () => {
    const r = decode(OMS_PLAIN);
    expect(r.Body).toMatchObject({ IsEncrypted: true, DecryptionFailed: true, DataRecords: [] });
    expect(r.KeyIdentifier).toBeUndefined();
    expect(parseHeader(OMS_PLAIN)).toMatchObject({ encrypted: true, needsKey: true, alreadyDecrypted: false, securityMode: 5 });
  });

  it('flags a wrong key without garbage records', () => {
    const r = decode(OMS_PLAIN, { key: KEY_00_0F });
    expect(r.Body).toMatchObject({ IsEncrypted: true, DecryptionFailed: true, DataRecords: [] });
    expect(r.KeyIdentifier).toMatch(/^[0-9A-F]{64}$/);
    expect(JSON.stringify(r)).not.toContain(KEY_00_0F.toLowerCase());
  });

  it('treats a mode 5 payload that starts with 2F2F as already decrypted when asked to (lab data)', () => {
    const plain = '2e4493157856341233037a2a0020052f2f0c1427048502046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f';
    const r = decode(plain, { acceptPredecrypted: true });
    expect(r.AlreadyDecrypted).toBe(true);
    expect(r.Body.IsEncrypted).toBe(false);
    expect(r.Body.DataRecords[0]?.ValueString).toBe('28504.27');
    expect(parseHeader(plain, { acceptPredecrypted: true })).toMatchObject({ encrypted: true, alreadyDecrypted: true, needsKey: false });
    expect(parseHeader(plain)).toMatchObject({ encrypted: true, alreadyDecrypted: true, needsKey: true });
  });

  it('decodes partial encryption with a long header (OMS N.5.3, radio adapter)', () => {
    const r = decode('304493444433221155378c00757288776655934455080004100500dfe2a782146d1513581cd2f83f39040cfd1078563412', { key: KEY_00_0F });
    expect(r.IdString).toBe('11223344');
    expect(r.TplIdString).toBe('55667788');
    expect(r.Body.DataRecords.map((x) => x.ValueString)).toEqual(['1234', '2007-04-30', '23456', '12345678']);
  });
});

describe('mode 7 (KDF-A, AFL MAC)', () => {
  it('derives Kenc and Kmac like CEN/TR 17167 F.3', () => {
    const keys = deriveMode7Keys(keyContext(toBytes(KEY_00_0F)), toBytes('b30a0000'), toBytes('78563412'));
    expect(hex(keys.kenc).toUpperCase()).toBe('ECCF39D475D730B8284FDFDC1995D52F');
    expect(hex(keys.kmac).toUpperCase()).toBe('C9CD19FF5A9AAD5A6BBDA13BD2C4C7AD');
  });

  it('matches the RFC 4493 AES-CMAC test vectors', () => {
    const ctx = newKeyContext(toBytes('2b7e151628aed2a6abf7158809cf4f3c'));
    expect(hex(cmac(ctx, new Uint8Array(0)))).toBe('bb1d6929e95937287fa37d129b756746');
    expect(hex(cmac(ctx, toBytes('6bc1bee22e409f96e93d7e117393172a')))).toBe('070a16b46b4d4144f79bdd9dd04a287c');
    expect(hex(cmac(ctx, toBytes('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411')))).toBe('dfa66747de9ae63030ca32611497c827');
  });

  it('decrypts OMS security profile B and checks the MAC', () => {
    const r = decode(PROFILE_B, { key: KEY_00_0F });
    expect(r.CiChain).toEqual(['0x8c', '0x90', '0x7a']);
    expect(r.Afl).toMatchObject({ MessageCounter: 2739, Mac: '0x21924d4f2fb66e01', MacValid: true, AuthenticationType: 5 });
    expect(r.Header).toMatchObject({ EncryptionMode: 7, EncryptedBlocks: 2, KdfSelection: 1, AccessNumber: 117 });
    expect(r.Body.Raw).toBe('0x2f2f0c1427048502046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f');
    expect(r.FormatSignature).toBe(61330);
  });

  it('rejects a message whose MAC does not match', () => {
    const r = decode(PROFILE_B.replace('21924d4f2fb66e01', '21924d4f3fb66e01'), { key: KEY_00_0F });
    expect(r.Afl?.MacValid).toBe(false);
    expect(r.Body).toMatchObject({ DecryptionFailed: true, DataRecords: [] });
  });

  it('decodes the radio-adapter example (ELL-III + AFL + long header, frame A)', () => {
    const r = decode('53082448443322110337d0468e80753a63665544330a31900f002c25e00ab30a0000af5d74df73a600d972785634c027129315330375002007109058475f4bc955cf1df878b80a1b0f98b629024aac7279429398bfc549233c0140829b93baa1', { key: KEY_00_0F });
    expect(r.FrameFormat).toBe('A');
    expect(r.TplIdString).toBe('12345678');
    expect(r.Afl?.MacValid).toBe(true);
    expect(r.Body.DataRecords[0]?.ValueString).toBe('28504.27');
  });
});

describe('ELL AES-128-CTR', () => {
  const KAM = '24442d2c692845631b168d3050209cd621b006b1140aef4953ae5b86fafc0b00e70705b846';
  const KAM_KEY = '4E5508544202058100DFEFA06B0934A5';

  it('decrypts the jmbus Kamstrup telegram and checks the payload CRC', () => {
    const r = decode(KAM, { key: KAM_KEY });
    expect(r.Ell).toMatchObject({ CiField: '0x8d', CommunicationControl: 0x30, EncryptionMode: 1, PayloadCrcValid: true });
    expect(r.Body.IsEncrypted).toBe(false);
    expect(r.Body.DataRecords.filter((x) => x.VifUnit === 'm^3').map((x) => x.ValueString)).toEqual(['474.24', '473.247']);
    expect(parseHeader(KAM)).toMatchObject({ ellEncrypted: true, needsKey: true });
  });

  it('flags a wrong key and a missing key', () => {
    expect(decode(KAM, { key: KEY_00_0F }).Body).toMatchObject({ DecryptionFailed: true, IsEncrypted: true, DataRecords: [] });
    expect(decode(KAM).Body).toMatchObject({ DecryptionFailed: true, IsEncrypted: true, DataRecords: [] });
  });

  it('treats an ELL payload whose CRC already checks as plaintext when asked to (lab data)', () => {
    const r = decode('5c442d2c06357260190c8d207b70032f21271d7802f9ff15011104061765000004eeff07bfa8000004eeff08d24f00000414b1fb000002fd170000026ce919426cff184406f76400004414e8fa0000043b0b0000000259db11025d1c0b', { acceptPredecrypted: true });
    expect(r.AlreadyDecrypted).toBe(true);
    expect(r.Body.DataRecords.some((x) => x.ValueString === '644.33')).toBe(true);
  });
});
