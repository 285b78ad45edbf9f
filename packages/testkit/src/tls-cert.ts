/**
 * Throw-away certificates for tests, made with the `openssl` command line (testkit never imports the
 * appliance's certificate code): a self-signed server certificate (cached per set of names for the life
 * of the process), and a test CA that issues client certificates (TLS client authentication tests).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
}

const cache = new Map<string, TestCert>();

/** `openssl req` options for a new P-256 key without a passphrase. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const openssl = (cwd: string, args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/**
 * A P-256 key and a one-day certificate whose subject alternative names are `names` (DNS names or IP
 * addresses; default `localhost` and `127.0.0.1`). Trust it in a client with `ca: cert`.
 */
export function selfSignedCert(names: string[] = ['localhost', '127.0.0.1']): TestCert {
  const key = names.join(',');
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'delegato-cert-'));
  try {
    const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    const cn = names.find((n) => !isIP(n)) ?? 'localhost';
    openssl(dir, [
      'req',
      '-x509',
      ...NEW_P256_KEY,
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
    ]);
    const made = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    cache.set(key, made);
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A test certificate authority: its files live in `dir` (the caller removes it). */
export interface TestCa {
  name: string;
  dir: string;
  certFile: string;
  keyFile: string;
}

/** A client certificate and its SHA-256 fingerprint as Node prints it (`AB:CD:...`). */
export interface ClientCert extends TestCert {
  fingerprint: string;
}

/** A P-256 CA certificate valid for two days, written to `<dir>/<name>.pem` and `<dir>/<name>.key`. */
export function testCa(dir: string, name: string): TestCa {
  openssl(dir, [
    'req',
    '-x509',
    ...NEW_P256_KEY,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  ]);
  return { name, dir, certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
}

/** A one-day client certificate (extendedKeyUsage clientAuth) for `cn`, issued by `ca`; `name` names its files. */
export function clientCert(ca: TestCa, name: string, cn: string): ClientCert {
  writeFileSync(join(ca.dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  openssl(ca.dir, [
    'req',
    '-new',
    ...NEW_P256_KEY,
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl(ca.dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
  const cert = readFileSync(join(ca.dir, `${name}.pem`), 'utf8');
  return {
    cert,
    key: readFileSync(join(ca.dir, `${name}.key`), 'utf8'),
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}
