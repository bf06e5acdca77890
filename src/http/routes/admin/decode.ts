import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { inspectTelegram, type Inspection } from '../../../parser/local/inspect.js';
import { deviceTypeName } from '../../../wmbus/device-types.js';
import { MAX_INPUT_BYTES } from '../../../wmbus/hex.js';
import { parseHeader } from '../../../wmbus/index.js';
import { HttpError } from '../../http-error.js';
import { ErrorBody } from '../../schemas.js';
import { KeyHex } from './common.js';
import type { AdminContext } from './context.js';

const Str = Type.String();
const NullableStr = Type.Union([Type.String(), Type.Null()]);

const Layer = Type.Object({
  name: Type.String({ description: 'dll, ell, afl, nwl (network layer), tpl, records, compact, format, encrypted (not decrypted), mfct, payload, unknown.' }),
  start: Type.Integer({ description: 'First byte, offset into `hex`.' }),
  end: Type.Integer({ description: 'One past the last byte.' }),
});

const RecordView = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  data_start: Type.Integer({ description: 'First data byte (after DIF…VIFE and an LVAR length byte).' }),
  dif: Type.String({ description: 'DIF and DIFEs, hex.' }),
  vif: Type.String({ description: 'VIF and VIFEs, hex.' }),
  description: Type.String({ description: 'Quantity, VIFE meaning and function, e.g. "Volume; Maximum Value".' }),
  value: Type.Union([Type.Number(), Type.String(), Type.Null()], { description: 'Scaled value, or text (dates, identifiers); null when the bytes were no valid value.' }),
  unit: Str,
  storage: Type.Integer(),
  tariff: Type.Integer(),
  subunit: Type.Integer(),
  data: Type.String({ description: 'Data bytes, hex.' }),
});

const DecodedValue = Type.Object({
  name: Str,
  value: Type.Union([Type.Number(), Type.String()]),
  unit: Str,
  date: Type.Optional(Str),
  storage: Type.Optional(Type.Integer()),
  tariff: Type.Optional(Type.Integer()),
  subunit: Type.Optional(Type.Integer()),
  function: Type.Optional(Str),
  description: Type.Optional(Str),
});

const DecodeBody = Type.Object({
  ok: Type.Boolean({ description: 'The telegram decoded and, if encrypted, decrypted.' }),
  error: Type.Union([Type.Object({ code: Str, message: Str }), Type.Null()], { description: 'Why the decoder refused the telegram (e.g. crc_error, too_short, unexpected_plaintext).' }),
  meter: Type.Union([Type.Object({
    id: Str, manufacturer: Str, manufacturer_name: Str, version: Type.Integer(), device_type: Type.Integer(), type: Str,
  }), Type.Null()]),
  security: Type.Union([Type.Object({
    mode: Type.Integer({ description: 'TPL security mode (0 none, 5 AES-CBC, 7 AES-CBC ephemeral key, …).' }),
    mode_name: Str,
    ell_encrypted: Type.Boolean({ description: 'The ELL carries AES-CTR encryption.' }),
    encrypted: Type.Boolean({ description: 'The payload was encrypted (TPL or ELL).' }),
    decrypted: Type.Boolean({ description: 'A key (the given one or a driver\'s published default key) decrypted it.' }),
    authenticated: Type.Boolean({ description: 'Decrypted with a key into a payload that checked (and the AFL MAC, when sent).' }),
    default_key_used: Type.Boolean(),
    mac_valid: Type.Union([Type.Boolean(), Type.Null()], { description: 'AFL MAC check; null when none was sent or no key allowed checking it.' }),
  }), Type.Null()]),
  key_diagnosis: Type.Union([Type.Object({
    problem: Type.Union([Type.Literal('key_missing'), Type.Literal('wrong_key'), Type.Literal('truncated'), Type.Literal('unsupported_mode')]),
    detail: Str,
  }), Type.Null()], { description: 'Why it did not decrypt; null when it did or was not encrypted.' }),
  driver: Type.Union([Type.String(), Type.Null()], { description: 'Meter driver that interpreted the payload ("oms" = standard decoding).' }),
  hex: Type.Union([Type.String(), Type.Null()], { description: 'The frame bytes all offsets refer to: link-layer CRCs removed, wired M-Bus start/stop removed. null when the frame could not be read.' }),
  plain_hex: NullableStr,
  crc_removed: Type.Boolean({ description: 'The input carried link-layer CRCs (format A/B); they are not in `hex`.' }),
  layers: Type.Array(Layer),
  records: Type.Array(RecordView),
  values: Type.Array(DecodedValue, { description: 'The decoded values as in a reading\'s `values` (without a domain mapping).' }),
  warnings: Type.Array(Str),
  wmbus: Type.Unknown({ description: 'The full Lobaro-shaped decode (as a reading\'s local.wmbus), null when refused.' }),
});

function body(x: Inspection) {
  const r = x.result;
  const l = x.layout;
  const encrypted = r !== null && (r.Header.EncryptionMode !== 0 || r.Ell?.EncryptionMode === 1);
  const decrypted = r !== null && encrypted && !r.Body.IsEncrypted && !r.Body.DecryptionFailed && !r.AlreadyDecrypted;
  const device = r === null ? 0 : Number.parseInt(r.Device, 16);
  return {
    ok: r !== null && !r.Body.IsEncrypted && !r.Body.DecryptionFailed,
    error: x.error,
    meter: r === null ? null : {
      id: r.IdString, manufacturer: r.MFieldCodeString, manufacturer_name: r.MFieldLongString, version: r.Version,
      device_type: device, type: deviceTypeName(device),
    },
    security: r === null ? null : {
      mode: r.Header.EncryptionMode, mode_name: r.Header.EncryptionModeString,
      ell_encrypted: r.Ell?.EncryptionMode === 1,
      encrypted,
      decrypted, authenticated: r.Authenticated, default_key_used: r.DefaultKeyUsed === true,
      mac_valid: r.Afl?.MacValid ?? null,
    },
    key_diagnosis: r?.KeyDiagnosis ?? null,
    driver: r?.Driver ?? null,
    hex: l?.hex ?? null,
    plain_hex: l?.plainHex ?? null,
    crc_removed: l?.crcRemoved ?? false,
    layers: l?.layers ?? [],
    records: (l?.records ?? []).map((s) => {
      const rec = s.record;
      const parts = [rec.VifQuantity, rec.VifEDescription, rec.DifFunctionString === 'Current Value' ? '' : rec.DifFunctionString].filter((p) => p !== '');
      const numeric = rec.ValueString !== '' && !Number.isNaN(Number(rec.ValueString));
      return {
        start: s.start, end: s.end, data_start: s.dataStart, dif: s.dif, vif: s.vif, description: parts.join('; '),
        value: rec.ValueInvalid ? null : numeric ? rec.ValueScaled : rec.ValueString === '' ? rec.ValueScaled : rec.ValueString,
        unit: rec.VifUnit, storage: rec.StorageNo, tariff: rec.Tariff, subunit: rec.DifSubunit, data: rec.Data.replace(/^0x/, ''),
      };
    }),
    values: x.values,
    warnings: r?.Warnings ?? [],
    wmbus: r,
  };
}

/** The inspector: decode a pasted telegram locally, nothing stored; the key is used for this call only. */
export const decodeRoutes: FastifyPluginAsyncTypebox<AdminContext> = async (app, ctx) => {
  app.post('/decode', {
    schema: {
      summary: 'Decode a telegram locally (inspector)',
      description: 'Decodes with the built-in decoder and the meter drivers, whatever PARSER is: nothing is stored, queued or published, '
        + 'the key is used for this call only and is never echoed, logged or audited (the audit entry holds the byte count and meter id). '
        + 'Answers 200 also for telegrams the decoder refuses (`ok: false`, `error`); byte offsets refer to `hex`.',
      tags: ['admin: telegrams'],
      body: Type.Object({
        hex: Type.String({ minLength: 2, maxLength: MAX_INPUT_BYTES * 2, pattern: '^(0x)?([0-9A-Fa-f]{2})+$', description: 'The telegram as hex (with or without link-layer CRCs).' }),
        key: Type.Optional(KeyHex),
      }, { additionalProperties: false }),
      response: { 200: DecodeBody, 400: ErrorBody },
    },
  }, async (req) => {
    const inspection = inspectTelegram(req.body.hex, req.body.key ?? null, ctx.drivers);
    const out = body(inspection);
    await ctx.store.insertAudit({
      at: Date.now(), action: 'telegram.decode', target: out.meter?.id || null, actor: req.adminActor ?? 'unknown',
      details: { bytes: req.body.hex.replace(/^0x/, '').length / 2, key_given: req.body.key !== undefined, ok: out.ok },
    });
    return out;
  });

  app.get('/telegrams/:ingest_id/inspect', {
    schema: {
      summary: 'Inspect a stored telegram (inspector)',
      description: 'The POST /v1/admin/decode answer for a stored telegram, decoded with the meter\'s stored key when there is one (`key_source: stored`; '
        + 'the key never leaves the bridge). Shows why a telegram failed to decrypt, and what it decodes to now that a key was stored. Nothing is written but the audit entry.',
      tags: ['admin: telegrams'],
      params: Type.Object({ ingest_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
      response: {
        200: Type.Composite([Type.Object({
          ingest_id: Str,
          key_source: Type.Union([Type.Literal('stored'), Type.Literal('none')], { description: 'stored: decoded with the key stored for the meter; none: no key stored.' }),
        }), DecodeBody]),
        404: ErrorBody,
      },
    },
  }, async (req) => {
    const t = await ctx.store.getTelegram(req.params.ingest_id);
    if (!t) throw new HttpError('not_found', `no telegram ${req.params.ingest_id}`);
    const meterId = t.meterId ?? headerMeterId(t.rawHex);
    const record = meterId ? await ctx.store.getMeterKeyRecord(meterId) : undefined;
    const key = record ? ctx.keys.openKey(record) : null;
    const out = body(inspectTelegram(t.rawHex, key, ctx.drivers));
    await ctx.store.insertAudit({
      at: Date.now(), action: 'telegram.decode', target: out.meter?.id || meterId || null, actor: req.adminActor ?? 'unknown',
      details: { ingest_id: t.ingestId, bytes: t.rawHex.length / 2, key_given: key !== null, ok: out.ok },
    });
    return { ingest_id: t.ingestId, key_source: key === null ? 'none' as const : 'stored' as const, ...out };
  });
};

function headerMeterId(rawHex: string): string | null {
  try {
    return parseHeader(rawHex).meterId || null;
  } catch {
    return null;
  }
}
