import type { IClientOptions } from 'mqtt';
import type { TlsSettings } from '../config/tls-settings.js';

/**
 * MQTT.js options for these settings. For wss:// MQTT.js copies ca/cert/key
 * but not servername into the WebSocket options, so they are set explicitly.
 */
export function mqttTlsOptions(tls: TlsSettings | undefined, url: string): Partial<IClientOptions> {
  if (!tls) return {};
  const secure = {
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { key: tls.key }),
    ...(tls.passphrase !== undefined && { passphrase: tls.passphrase }),
    ...(tls.servername !== undefined && { servername: tls.servername }),
    rejectUnauthorized: !tls.insecure,
  };
  return url.startsWith('wss:') ? { ...secure, wsOptions: { ...secure } } : secure;
}
