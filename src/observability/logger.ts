import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino replaces with "[redacted]". AES keys and tokens must never reach a
 * log line; callers also avoid putting them in objects, this is the net below.
 */
export const REDACT_PATHS = [
  'key', 'key_hex', 'keyHex', '*.key', '*.key_hex', '*.keyHex',
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'password', '*.password', 'passphrase', '*.passphrase', 'mqttTls', '*.mqttTls', 'lobaroToken', 'adminToken', 'mqttPassword', 'url', '*.url',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'oms-bridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
