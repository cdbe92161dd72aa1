/**
 * Certificates made with Debian's openssl for TLS tests on loopback: a CA (standing for a
 * corporate intercepting CA, or just a test root) and a server certificate it signs, valid for
 * 127.0.0.1, ::1 and localhost.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The CA's certificate (PEM): what a client must trust. */
  readonly caPem: string;
  /** The CA's subject common name, e.g. `Test Intercepting CA`. */
  readonly caName: string;
  /** The server's certificate (PEM), signed by the CA. */
  readonly certPem: string;
  /** The server's private key (PEM). */
  readonly keyPem: string;
}

/** A CA called `caName` and a server certificate it signs for loopback (EC P-256: quick to make). */
export function makeTestCertificates(
  caName = 'cognito-jwt Test CA',
  names: readonly string[] = [],
): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'test-ca-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${caName}`,
      '-out',
      'ca.pem',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
    openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost${names.map((name) => `,DNS:${name}`).join('')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.pem',
    );
    return {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      caName,
      certPem: readFileSync(join(dir, 'server.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
