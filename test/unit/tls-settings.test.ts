import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { certificateWarnings, clientCertificate, tlsStartWarnings } from '../../src/config/tls-settings.js';
import { classifyTlsFailure } from '../../src/publish/tls-failure.js';
import { mqttTlsOptions } from '../../src/publish/tls-options.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';

const URL_TLS = 'mqtts://broker.example:8883';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ MQTT_URL: URL_TLS, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('MQTT TLS settings', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki(mkdtempSync(join(tmpdir(), 'oms-tls-unit-')));
  });
  afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

  it('is absent without any TLS variable (public CAs, as before)', () => {
    expect(loadConfig({ MQTT_URL: URL_TLS }).mqttTls).toBeUndefined();
  });

  it('reads the CA bundle, client certificate and key once, as plain data for the pipeline thread', () => {
    const bundle = join(pki.dir, 'bundle.pem');
    writeFileSync(bundle, [pki.caCert, pki.otherCaCert].map((f) => readFileSync(f, 'utf8')).join('\n'));
    const c = loadConfig({ MQTT_URL: URL_TLS, MQTT_CA_FILE: bundle, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey, MQTT_TLS_SERVERNAME: 'broker.internal' });
    const tls = c.mqttTls!;
    expect(tls.ca).toContain('BEGIN CERTIFICATE');
    expect(tls.key).toContain('PRIVATE KEY');
    expect(tls.certificates.map((x) => x.variable)).toEqual(['MQTT_CA_FILE', 'MQTT_CA_FILE', 'MQTT_CERT_FILE']);
    expect(clientCertificate(tls)?.subject).toBe('CN=bridge-client');
    expect(structuredClone(tls)).toEqual(tls);
    expect(mqttTlsOptions(tls, URL_TLS)).toMatchObject({ ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'broker.internal', rejectUnauthorized: true });
    expect(tlsStartWarnings(tls, 'MQTT')).toEqual([]);
  });

  it('stops the start with one line naming the variable: missing or unreadable files', () => {
    const missing = join(pki.dir, 'nope.pem');
    expect(problems({ MQTT_CA_FILE: missing })).toEqual([`MQTT_CA_FILE: cannot read ${missing} (ENOENT)`]);
    expect(problems({ MQTT_CA_FILE: pki.dir })).toEqual([`MQTT_CA_FILE: cannot read ${pki.dir} (EISDIR)`]);
    expect(problems({ MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: missing })).toEqual([`MQTT_KEY_FILE: cannot read ${missing} (ENOENT)`]);
    expect(problems({ MQTT_CA_FILE: pki.clientKey })).toEqual([`MQTT_CA_FILE: no PEM certificate in ${pki.clientKey}`]);
  });

  it('refuses a key that does not match the certificate', () => {
    expect(problems({ MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.otherKey })).toEqual([
      `MQTT_KEY_FILE: ${pki.otherKey} does not match the certificate in MQTT_CERT_FILE`,
    ]);
  });

  it('refuses an expired client certificate', () => {
    const p = problems({ MQTT_CERT_FILE: pki.expiredCert, MQTT_KEY_FILE: pki.clientKey });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^MQTT_CERT_FILE: the client certificate expired on \d{4}-\d\d-\d\dT/);
  });

  it('needs the passphrase of an encrypted key, and the right one', () => {
    expect(problems({ MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKeyEncrypted })).toEqual([
      `MQTT_KEY_PASSPHRASE: required, ${pki.clientKeyEncrypted} is encrypted`,
    ]);
    expect(problems({ MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKeyEncrypted, MQTT_KEY_PASSPHRASE: 'wrong' })).toEqual([
      `MQTT_KEY_PASSPHRASE: does not decrypt ${pki.clientKeyEncrypted}`,
    ]);
    const ok = loadConfig({ MQTT_URL: URL_TLS, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKeyEncrypted, MQTT_KEY_PASSPHRASE: pki.passphrase });
    expect(ok.mqttTls?.passphrase).toBe(pki.passphrase);
  });

  it('wants certificate and key together, and a TLS URL', () => {
    expect(problems({ MQTT_CERT_FILE: pki.clientCert })).toEqual(['MQTT_KEY_FILE: required when MQTT_CERT_FILE is set']);
    expect(problems({ MQTT_KEY_FILE: pki.clientKey })).toEqual(['MQTT_CERT_FILE: required when MQTT_KEY_FILE is set']);
    expect(problems({ MQTT_URL: 'mqtt://broker:1883', MQTT_CA_FILE: pki.caCert })).toEqual([
      'MQTT_URL: must be mqtts://… or wss://… when MQTT_CA_FILE, MQTT_CERT_FILE or another MQTT TLS setting is set',
    ]);
    expect(problems({ MQTT_URL: 'wss://broker:443/mqtt', MQTT_CA_FILE: pki.caCert })).toEqual([]);
  });

  it('warns at start about lab mode and a certificate that ends within 14 days', () => {
    const c = loadConfig({ MQTT_URL: URL_TLS, MQTT_CERT_FILE: pki.soonCert, MQTT_KEY_FILE: pki.clientKey, MQTT_TLS_INSECURE: 'true' });
    const warnings = tlsStartWarnings(c.mqttTls, 'MQTT');
    expect(warnings[0]).toMatch(/^MQTT_TLS_INSECURE=true: the broker's certificate is not checked/);
    expect(warnings[1]).toMatch(/^MQTT_CERT_FILE: certificate "CN=bridge-client-soon" expires in [45] days/);
    expect(mqttTlsOptions(c.mqttTls, URL_TLS).rejectUnauthorized).toBe(false);
  });

  it('re-checks expiry against the clock of the daily check, CAs included', () => {
    const c = loadConfig({ MQTT_URL: URL_TLS, MQTT_CA_FILE: pki.caCert, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey });
    const end = clientCertificate(c.mqttTls)!.notAfter;
    expect(certificateWarnings(c.mqttTls, end - 15 * 86_400_000)).toEqual([]);
    expect(certificateWarnings(c.mqttTls, end - 3.5 * 86_400_000)).toEqual([
      expect.stringMatching(/^MQTT_CA_FILE: certificate "CN=oms-bridge test CA" expires in 3 days/),
      expect.stringMatching(/^MQTT_CERT_FILE: certificate "CN=bridge-client" expires in 3 days/),
    ]);
    expect(certificateWarnings(c.mqttTls, end + 1_000)[1]).toMatch(/^MQTT_CERT_FILE: certificate "CN=bridge-client" expired on /);
  });

  it('passes the settings, servername included, to the WebSocket transport for wss://', () => {
    const c = loadConfig({ MQTT_URL: 'wss://broker:443/mqtt', MQTT_CA_FILE: pki.caCert, MQTT_TLS_SERVERNAME: 'mqtt.example.com' });
    const opts = mqttTlsOptions(c.mqttTls, 'wss://broker:443/mqtt');
    expect(opts.wsOptions).toMatchObject({ ca: c.mqttTls!.ca, servername: 'mqtt.example.com', rejectUnauthorized: true });
    expect(mqttTlsOptions(c.mqttTls, 'mqtts://broker').wsOptions).toBeUndefined();
  });

  it('classifies handshake failures by error code', () => {
    const reason = (code: string) => classifyTlsFailure(Object.assign(new Error('x'), { code }))?.reason;
    expect(reason('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toBe('unknown_ca');
    expect(reason('SELF_SIGNED_CERT_IN_CHAIN')).toBe('unknown_ca');
    expect(reason('ERR_TLS_CERT_ALTNAME_INVALID')).toBe('hostname_mismatch');
    expect(reason('CERT_HAS_EXPIRED')).toBe('certificate_expired');
    expect(reason('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')).toBe('client_certificate_rejected');
    expect(reason('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('handshake_failed');
    expect(reason('ECONNREFUSED')).toBeUndefined();
    expect(classifyTlsFailure(new Error('no code'))).toBeUndefined();
    expect(classifyTlsFailure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'INGRESS_MQTT')?.hint).toContain('INGRESS_MQTT_TLS_SERVERNAME');
  });
});
