import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * TLS settings of one MQTT connection, as plain data: the frozen config goes
 * to the pipeline thread through workerData, so no KeyObject or SecureContext
 * lives here. PEM text is read once at start; reconnects reuse it.
 */
export interface TlsSettings {
  /** PEM text of one or more CA certificates (`<PREFIX>_CA_FILE`); undefined = Node's public CA list. */
  ca: string | undefined;
  /** PEM text of the client certificate, optionally followed by its chain (`<PREFIX>_CERT_FILE`). */
  cert: string | undefined;
  /** PEM text of the client key (`<PREFIX>_KEY_FILE`). Redacted in logs under `*.key`. */
  key: string | undefined;
  passphrase: string | undefined;
  /** SNI and certificate name check override (`<PREFIX>_TLS_SERVERNAME`). */
  servername: string | undefined;
  /** `<PREFIX>_TLS_INSECURE`: the broker's certificate is not checked. Labs only. */
  insecure: boolean;
  /** Every certificate read (CAs and client certificate), for expiry warnings, health and metrics. */
  certificates: CertificateInfo[];
}

export interface CertificateInfo {
  /** The variable the certificate came from, e.g. `MQTT_CERT_FILE`. */
  variable: string;
  subject: string;
  /** Epoch ms. */
  notAfter: number;
}

/** The variables one TLS setting set reads, after the prefix (`MQTT`, later `INGRESS_MQTT`). */
export const TLS_VARIABLE_SUFFIXES = ['CA_FILE', 'CERT_FILE', 'KEY_FILE', 'KEY_PASSPHRASE', 'TLS_SERVERNAME', 'TLS_INSECURE'] as const;

/** Certificates closer than this to their end log a warning at start and show in /healthz. */
export const CERT_EXPIRY_WARNING_MS = 14 * 86_400_000;

/** What the config reader offers; kept minimal so any prefix can reuse it. */
export interface TlsEnvReader {
  string(name: string): string | undefined;
  bool(name: string, fallback: boolean): boolean;
}

/**
 * Reads `<prefix>_CA_FILE` … `<prefix>_TLS_INSECURE`, loads and checks the
 * files. Each problem is one line naming the variable; undefined when none of
 * the variables is set.
 */
export function loadTlsSettings(read: TlsEnvReader, prefix: string, problems: string[], now = Date.now()): TlsSettings | undefined {
  const v = (suffix: (typeof TLS_VARIABLE_SUFFIXES)[number]): string => `${prefix}_${suffix}`;
  const caFile = read.string(v('CA_FILE'));
  const certFile = read.string(v('CERT_FILE'));
  const keyFile = read.string(v('KEY_FILE'));
  const passphrase = read.string(v('KEY_PASSPHRASE'));
  const servername = read.string(v('TLS_SERVERNAME'));
  const insecure = read.bool(v('TLS_INSECURE'), false);
  if (!caFile && !certFile && !keyFile && !passphrase && !servername && !insecure) return undefined;

  const settings: TlsSettings = { ca: undefined, cert: undefined, key: undefined, passphrase, servername, insecure, certificates: [] };
  const before = problems.length;
  const readPem = (name: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      problems.push(`${name}: cannot read ${path} (${code})`);
      return undefined;
    }
  };

  if (caFile) {
    const text = readPem(v('CA_FILE'), caFile);
    if (text !== undefined) {
      const certs = parseCertificates(v('CA_FILE'), caFile, text, problems);
      settings.ca = text;
      settings.certificates.push(...certs);
    }
  }

  if (certFile && !keyFile) problems.push(`${v('KEY_FILE')}: required when ${v('CERT_FILE')} is set`);
  if (keyFile && !certFile) problems.push(`${v('CERT_FILE')}: required when ${v('KEY_FILE')} is set`);
  if (passphrase && !keyFile) problems.push(`${v('KEY_FILE')}: required when ${v('KEY_PASSPHRASE')} is set`);
  if (certFile && keyFile) {
    const certText = readPem(v('CERT_FILE'), certFile);
    const keyText = readPem(v('KEY_FILE'), keyFile);
    const leaf = certText === undefined ? undefined : firstCertificate(v('CERT_FILE'), certFile, certText, problems);
    const key = keyText === undefined ? undefined : privateKey(v, keyFile, keyText, passphrase, problems);
    if (leaf && key) {
      if (!leaf.checkPrivateKey(key)) problems.push(`${v('KEY_FILE')}: ${keyFile} does not match the certificate in ${v('CERT_FILE')}`);
      const notAfter = Date.parse(leaf.validTo);
      if (notAfter <= now) problems.push(`${v('CERT_FILE')}: the client certificate expired on ${new Date(notAfter).toISOString()}`);
      settings.certificates.push({ variable: v('CERT_FILE'), subject: leaf.subject.replace(/\n/g, ', '), notAfter });
    }
    settings.cert = certText;
    settings.key = keyText;
  }
  if (problems.length > before) return undefined;
  for (const c of settings.certificates) Object.freeze(c);
  Object.freeze(settings.certificates);
  return Object.freeze(settings);
}

/** The client certificate's entry, if one is configured. */
export function clientCertificate(tls: TlsSettings | undefined): CertificateInfo | undefined {
  return tls?.certificates.find((c) => c.variable.endsWith('_CERT_FILE'));
}

/** The client certificate as /healthz shows it (`mqtt.client_cert`); undefined without one. */
export function clientCertStatus(tls: TlsSettings | undefined, now = Date.now()) {
  const cert = clientCertificate(tls);
  if (!cert) return undefined;
  return {
    subject: cert.subject,
    expires_at: new Date(cert.notAfter).toISOString(),
    expires_in_s: Math.floor((cert.notAfter - now) / 1_000),
    expiring_soon: cert.notAfter - now < CERT_EXPIRY_WARNING_MS,
  };
}

/** Warnings to log at every start: lab mode, then the certificate warnings. */
export function tlsStartWarnings(tls: TlsSettings | undefined, prefix: string, now = Date.now()): string[] {
  if (!tls) return [];
  const lab = tls.insecure ? [`${prefix}_TLS_INSECURE=true: the broker's certificate is not checked; use this only in a lab`] : [];
  return [...lab, ...certificateWarnings(tls, now)];
}

/** Certificates (client or CA) past or within 14 days of their end; also re-checked daily while running. */
export function certificateWarnings(tls: TlsSettings | undefined, now = Date.now()): string[] {
  const out: string[] = [];
  for (const c of tls?.certificates ?? []) {
    const when = new Date(c.notAfter).toISOString();
    if (c.notAfter <= now) out.push(`${c.variable}: certificate "${c.subject}" expired on ${when}`);
    else if (c.notAfter - now < CERT_EXPIRY_WARNING_MS) out.push(`${c.variable}: certificate "${c.subject}" expires in ${Math.floor((c.notAfter - now) / 86_400_000)} days (${when})`);
  }
  return out;
}

function parseCertificates(name: string, path: string, text: string, problems: string[]): CertificateInfo[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    problems.push(`${name}: no PEM certificate in ${path}`);
    return [];
  }
  const out: CertificateInfo[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      const x = new X509Certificate(block);
      out.push({ variable: name, subject: x.subject.replace(/\n/g, ', '), notAfter: Date.parse(x.validTo) });
    } catch {
      problems.push(`${name}: certificate ${i + 1} in ${path} is not valid PEM`);
    }
  }
  return out;
}

function firstCertificate(name: string, path: string, text: string, problems: string[]): X509Certificate | undefined {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  try {
    if (block) return new X509Certificate(block);
  } catch {
    // reported below
  }
  problems.push(`${name}: no valid PEM certificate in ${path}`);
  return undefined;
}

function privateKey(v: (s: 'KEY_FILE' | 'KEY_PASSPHRASE') => string, path: string, text: string, passphrase: string | undefined, problems: string[]): KeyObject | undefined {
  try {
    return createPrivateKey(passphrase === undefined ? text : { key: text, passphrase });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const encrypted = /ENCRYPTED/.test(text);
    if (encrypted && passphrase === undefined) problems.push(`${v('KEY_PASSPHRASE')}: required, ${path} is encrypted`);
    else if (encrypted) problems.push(`${v('KEY_PASSPHRASE')}: does not decrypt ${path}`);
    else problems.push(`${v('KEY_FILE')}: no valid PEM private key in ${path}${code ? ` (${code})` : ''}`);
    return undefined;
  }
}
