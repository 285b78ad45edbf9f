/**
 * Certificates for users' names (issue 17): the acme-renew job gets imap./pop./smtp./mail. of a hosted
 * domain from Debian's pebble (HTTP-01, validated by pebble through the appliance's plain-HTTP listener),
 * and every TLS listener picks that certificate by SNI (RFC 6066 §3): a client asking for
 * imap.<domain> gets a certificate valid for that name that chains to pebble's root.
 */
import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { freePort, type RunningPebble, startPebble } from './acme-support.js';
import { addRose, startApplianceIn } from './appliance-support.js';

const DOMAIN = 'iat.example';

let temp: ReturnType<typeof tempDir>;
let pebble: RunningPebble;
let app: RunningAppliance;
let root: string;

const portOf = (name: string): number => {
  const port = app.listeners.find((l) => l.name === name)?.port;
  if (port === undefined) throw new Error(`no ${name} listener`);
  return port;
};

/** Verifies the peer against pebble's root and the requested name (rejectUnauthorized: true). */
function handshake(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca: root }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

/** IMAP STARTTLS (RFC 9051 §6.2.1) with SNI: the in-protocol upgrade picks the certificate too. */
function imapStartTls(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const raw = connectTcp(port, '127.0.0.1');
    let text = '';
    raw.setEncoding('utf8');
    const onData = (chunk: string) => {
      text += chunk;
      if (text.startsWith('* OK') && !text.includes('a1 ')) {
        if (text.includes('\r\n') && !text.includes('STARTTLS-sent')) {
          text += 'STARTTLS-sent';
          raw.write('a1 STARTTLS\r\n');
        }
        return;
      }
      if (/a1 OK/.test(text)) {
        raw.off('data', onData);
        const secure: TLSSocket = connect({ socket: raw, servername, ca: root }, () => {
          const cert = secure.getPeerCertificate();
          secure.destroy();
          resolve(cert);
        });
        secure.once('error', reject);
      }
    };
    raw.on('data', onData);
    raw.once('error', reject);
  });
}

beforeAll(async () => {
  temp = tempDir('delegato-acme-');
  const httpPort = await freePort();
  pebble = await startPebble(temp.path, httpPort);
  app = await startApplianceIn(temp.path, {
    DELEGATO_PORT_HTTP: String(httpPort),
    DELEGATO_ACME_DIRECTORY_URL: pebble.directoryUrl,
    DELEGATO_ACME_CA_FILE: pebble.caFile,
    DELEGATO_ACME_EMAIL: 'hostmaster@iat.example',
  });
  await addRose(app, 'rose-pw-1');
  root = await pebble.rootPem();
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await pebble?.stop();
  temp?.remove();
});

describe('certificates by SNI from ACME (pebble)', () => {
  it('the acme-renew job issues imap./pop./smtp./mail. of the hosted domain, validated over HTTP-01', async () => {
    const outcome = (await app.scheduler.runNow('acme-renew')) as { issued: string[]; failed: unknown[] };
    expect(outcome.failed).toEqual([]);
    expect(outcome.issued).toEqual([DOMAIN]);
  }, 60_000);

  it('an IMAPS connection with SNI imap.<domain> gets a certificate for that name issued by pebble', async () => {
    const cert = await handshake(portOf('imaps'), `imap.${DOMAIN}`);
    const x509 = new X509Certificate(cert.raw);
    expect(x509.checkHost(`imap.${DOMAIN}`)).toBe(`imap.${DOMAIN}`);
    expect(cert.issuer.CN).toMatch(/^Pebble Intermediate CA/);
    // The handshake verified the chain against pebble's root (rejectUnauthorized is the default).
    expect(x509.subjectAltName).toContain(`DNS:smtp.${DOMAIN}`);
  });

  it('every other TLS listener picks it by SNI too: POP3S, submissions, web, admin, IMAP STARTTLS', async () => {
    for (const [listener, name] of [
      ['pop3s', `pop.${DOMAIN}`],
      ['submissions', `smtp.${DOMAIN}`],
      ['web', `mail.${DOMAIN}`],
      ['admin', `mail.${DOMAIN}`],
    ] as const) {
      const cert = await handshake(portOf(listener), name);
      expect(new X509Certificate(cert.raw).checkHost(name), listener).toBe(name);
    }
    const upgraded = await imapStartTls(portOf('imap'), `imap.${DOMAIN}`);
    expect(new X509Certificate(upgraded.raw).checkHost(`imap.${DOMAIN}`)).toBe(`imap.${DOMAIN}`);
  });

  it('a name no certificate covers gets the default (self-signed) certificate', async () => {
    await expect(handshake(portOf('imaps'), 'imap.other.example')).rejects.toThrow(
      /self-signed|certificate/i,
    );
  });

  it('running the job again asks nothing of the CA: the certificate is current', async () => {
    const outcome = (await app.scheduler.runNow('acme-renew')) as { issued: string[]; current: string[] };
    expect(outcome.issued).toEqual([]);
    expect(outcome.current).toEqual([DOMAIN]);
  });

  it('the plain-HTTP listener redirects everything but challenges to HTTPS', async () => {
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: portOf('http'), path: '/login?x=1', headers: { host: `mail.${DOMAIN}` } },
        (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, location: r.headers.location });
        },
      );
      req.once('error', reject);
      req.end();
    });
    expect(res.status).toBe(301);
    expect(res.location).toBe(`https://mail.${DOMAIN}:${portOf('web')}/login?x=1`);
  });
});
