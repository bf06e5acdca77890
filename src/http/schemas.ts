import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ examples: ['validation_failed'] }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Every error answer has this shape.' },
);

export const TelegramBody = Type.Object(
  {
    gateway_id: Type.String({ minLength: 1, maxLength: 64, description: 'Gateway id; becomes one MQTT topic level. [A-Za-z0-9._-]{1,64}', examples: ['gw-esp32c3-001'] }),
    rx_time: Type.Optional(Type.String({ maxLength: 40, description: 'Receive time, RFC 3339. Server time when absent.', examples: ['2026-01-08T12:45:11.123Z'] })),
    rssi_dbm: Type.Optional(Type.Number({ description: 'Signal strength in dBm, [-150, 0].', examples: [-82] })),
    mode: Type.Optional(Type.String({ maxLength: 16, description: 'wM-Bus radio mode: one of S1, S1-m, S2, T1, T2, C1, C2, N, F.', examples: ['T1'] })),
    raw_hex: Type.String({
      description: 'The telegram as hex digits, 11 to 512 bytes, with or without link-layer CRCs.',
      examples: ['2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3'],
    }),
    meter_hint: Type.Optional(
      Type.Object({
        meter_id: Type.Optional(Type.String({ maxLength: 64, description: '[A-Za-z0-9._-]{1,64}' })),
        manufacturer: Type.Optional(Type.String({ maxLength: 8, description: 'FLAG manufacturer code, 3 letters, e.g. ELS.' })),
      }),
    ),
    key_hex: Type.Optional(Type.String({ maxLength: 32, description: 'AES-128 key for this telegram, 32 hex digits. Never echoed or logged.' })),
  },
  { description: 'One telegram as received by a gateway.' },
);
export type TelegramBody = Static<typeof TelegramBody>;

export const AcceptedBody = Type.Object({
  accepted: Type.Literal(true),
  ingest_id: Type.String({ format: 'uuid' }),
  duplicate: Type.Optional(Type.Literal(true)),
});
