import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of a throwaway PKI made with the openssl binary. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** A second CA that signed nothing the broker uses. */
  otherCaCert: string;
  /** SAN DNS:localhost, IP:127.0.0.1. */
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** clientKey encrypted with `passphrase`. */
  clientKeyEncrypted: string;
  passphrase: string;
  /** Valid, signed by the CA, but for another key. */
  otherKey: string;
  /** Same key as clientCert, notAfter one day before notBefore. */
  expiredCert: string;
  /** Same key as clientCert, valid for 5 days. */
  soonCert: string;
}

const openssl = (dir: string, args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

const newKey = (dir: string, name: string): void => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);

function caCert(dir: string, name: string, cn: string): void {
  newKey(dir, `${name}.key`);
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function leafCert(dir: string, key: string, out: string, cn: string, days: number, ext: string): void {
  writeFileSync(join(dir, `${out}.ext`), ext);
  openssl(dir, ['req', '-new', '-key', key, '-out', `${out}.csr`, '-subj', `/CN=${cn}`]);
  // A negative -days gives notAfter before notBefore: an expired certificate without faking the clock.
  openssl(dir, ['x509', '-req', '-in', `${out}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', out, '-days', String(days), '-extfile', `${out}.ext`]);
}

/** Makes a CA, a server certificate for 127.0.0.1/localhost and client certificates in `dir` (about 20 openssl calls). */
export function makeTestPki(dir: string): TestPki {
  caCert(dir, 'ca', 'oms-bridge test CA');
  caCert(dir, 'other-ca', 'some other CA');
  newKey(dir, 'server.key');
  leafCert(dir, 'server.key', 'server.pem', 'localhost', 30, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  newKey(dir, 'client.key');
  leafCert(dir, 'client.key', 'client.pem', 'bridge-client', 30, clientExt);
  leafCert(dir, 'client.key', 'expired.pem', 'bridge-client-expired', -1, clientExt);
  leafCert(dir, 'client.key', 'soon.pem', 'bridge-client-soon', 5, clientExt);
  newKey(dir, 'other.key');
  const passphrase = 'test-passphrase';
  openssl(dir, ['pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'client-enc.key']);
  const p = (f: string): string => join(dir, f);
  return {
    dir, caCert: p('ca.pem'), otherCaCert: p('other-ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'),
    clientCert: p('client.pem'), clientKey: p('client.key'), clientKeyEncrypted: p('client-enc.key'), passphrase,
    otherKey: p('other.key'), expiredCert: p('expired.pem'), soonCert: p('soon.pem'),
  };
}
