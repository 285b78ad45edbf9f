/**
 * Debian's pebble (an ACME test CA) on loopback for the ACME tests, with pebble-challtestsrv as its DNS
 * server: every name resolves to 127.0.0.1 (no AAAA), so pebble's HTTP-01 validation reaches the
 * appliance's plain-HTTP listener on `httpPort`. Pebble's own HTTPS endpoint uses a throw-away certificate
 * (`caPem`, to be trusted by the ACME client); the root that signs the issued certificates is fetched
 * from its management interface (`rootPem`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { selfSignedCert } from '@delegato/testkit';

export interface RunningPebble {
  directoryUrl: string;
  /** The CA of pebble's HTTPS endpoints (its listener certificate, self-signed). */
  caFile: string;
  caPem: string;
  /** The root that issued certificates chain to. */
  rootPem(): Promise<string>;
  stop(): Promise<void>;
}

/** A port free now on 127.0.0.1 (pebble needs the numbers in its config before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function started(child: ChildProcess, name: string, ready: RegExp, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output.join('')}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (ready.test(output.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${output.join('')}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Starts challtestsrv and pebble in `dir`; pebble validates HTTP-01 on 127.0.0.1:`httpPort`. */
export async function startPebble(dir: string, httpPort: number): Promise<RunningPebble> {
  const [dnsPort, ctsManagement, acmePort, managementPort, tlsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const listenerCert = selfSignedCert(['localhost', '127.0.0.1']);
  const caFile = join(dir, 'pebble-ca.pem');
  writeFileSync(caFile, listenerCert.cert);
  writeFileSync(join(dir, 'pebble-key.pem'), listenerCert.key, { mode: 0o600 });
  const configFile = join(dir, 'pebble-config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: caFile,
        privateKey: join(dir, 'pebble-key.pem'),
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const dnsOutput: string[] = [];
  const dns = spawn(
    'pebble-challtestsrv',
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-management',
      `127.0.0.1:${ctsManagement}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await started(dns, 'pebble-challtestsrv', /Starting management server/, dnsOutput);
  const pebbleOutput: string[] = [];
  const pebble = spawn('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No random sleeps before validation, no rejected nonces: a deterministic test CA.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
  });
  try {
    await started(pebble, 'pebble', /ACME directory available/, pebbleOutput);
  } catch (error) {
    await stopChild(dns);
    throw error;
  }
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    caFile,
    caPem: listenerCert.cert,
    rootPem: async () => {
      const res = await httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, listenerCert.cert);
      if (res.status !== 200) throw new Error(`pebble roots/0: ${res.status}`);
      return res.body;
    },
    stop: async () => {
      await stopChild(pebble);
      await stopChild(dns);
    },
  };
}
