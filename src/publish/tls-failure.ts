/** Why a TLS connection to the broker failed, in the words an operator acts on. */
export type TlsFailureReason = 'unknown_ca' | 'hostname_mismatch' | 'certificate_expired' | 'client_certificate_rejected' | 'handshake_failed';

export interface TlsFailure {
  reason: TlsFailureReason;
  /** Node/OpenSSL error code as received. */
  code: string;
  /** What to check, naming the variables of `prefix`. */
  hint: string;
}

// Node/OpenSSL verification codes of the broker's chain (tls.connect, rejectUnauthorized).
const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
// Alerts the broker sends when it refuses the client certificate (or its absence).
const CLIENT_REJECTED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);

/** Classifies an MQTT.js `error` by its code; undefined when it is not a TLS failure (refused, DNS, timeouts…). */
export function classifyTlsFailure(err: unknown, prefix = 'MQTT'): TlsFailure | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (UNKNOWN_CA.has(code)) {
    return { reason: 'unknown_ca', code, hint: `the broker's certificate does not chain to a CA in ${prefix}_CA_FILE (or the public list when unset)` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { reason: 'hostname_mismatch', code, hint: `the broker's certificate does not name the host of ${prefix}_URL; check the URL or ${prefix}_TLS_SERVERNAME` };
  }
  if (EXPIRED.has(code)) return { reason: 'certificate_expired', code, hint: "the broker's certificate is expired or not yet valid (check the clocks)" };
  if (CLIENT_REJECTED.has(code)) {
    return { reason: 'client_certificate_rejected', code, hint: `the broker refused the client certificate; check ${prefix}_CERT_FILE and ${prefix}_KEY_FILE` };
  }
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return { reason: 'handshake_failed', code, hint: `the TLS handshake failed; is ${prefix}_URL a TLS port?` };
  }
  return undefined;
}
