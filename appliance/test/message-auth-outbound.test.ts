/**
 * Message authentication on the way out (issue 18), end to end through the appliance: a submitted message
 * reaches a loopback sink with an Ed25519 and an RSA-2048 DKIM signature that Debian's `dkimverify`
 * (python3-dkim) accepts with the keys served by dnsmasq; a recipient domain with an `enforce` MTA-STS
 * policy whose MX offers no STARTTLS gets nothing in clear (deferred, then a bounce that says why); the web
 * listener serves the MTA-STS policy of hosted domains.
 */

import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import { join } from 'node:path';
import {
  type DnsmasqRecords,
  type RunningDnsmasq,
  type RunningSmtpSink,
  selfSignedCert,
  startDnsmasq,
  startSmtpSink,
  tempDir,
} from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { executeCommand } from '../src/cli/commands.js';
import { addRose, startApplianceIn, TEST_OPERATOR } from './appliance-support.js';
import {
  dkimRecords,
  dkimverify,
  eventually,
  folderMessages,
  listenerPort,
  smtpSend,
} from './message-auth-support.js';

const PASSWORD = 'Auth-Out-Pass-99';
const ROSE = 'rose.pinkcheeks@iat.example';
const dir = tempDir('delegato-msgauth-out-');
let app: RunningAppliance;
let dns: RunningDnsmasq;
let sink: RunningSmtpSink;
let policyServer: Server;
let roseId = '';

const POLICY_CERT = selfSignedCert(['mta-sts.sts.example', 'mta-sts.elsewhere-sts.example']);

function records(extra: Record<string, string> = {}): DnsmasqRecords {
  return {
    local: ['iat.example', 'elsewhere.example', 'sts.example', 'elsewhere-sts.example'],
    MX: {
      'elsewhere.example': [{ priority: 10, exchange: 'mx.elsewhere.example' }],
      'sts.example': [{ priority: 10, exchange: 'mx.sts.example' }],
      // Its policy names another host than its MX.
      'elsewhere-sts.example': [{ priority: 10, exchange: 'mx.elsewhere.example' }],
    },
    A: {
      'mx.elsewhere.example': '127.0.0.1',
      'mx.sts.example': '127.0.0.1',
      'mta-sts.sts.example': '127.0.0.1',
      'mta-sts.elsewhere-sts.example': '127.0.0.1',
    },
    TXT: {
      '_mta-sts.sts.example': 'v=STSv1; id=20261206a',
      '_mta-sts.elsewhere-sts.example': 'v=STSv1; id=20261206b',
      ...extra,
    },
  };
}

beforeAll(async () => {
  sink = await startSmtpSink(); // no STARTTLS
  policyServer = createServer({ key: POLICY_CERT.key, cert: POLICY_CERT.cert }, (req, res) => {
    if (req.url !== '/.well-known/mta-sts.txt') {
      res.writeHead(404).end();
      return;
    }
    const mx =
      req.headers.host === 'mta-sts.elsewhere-sts.example' ? 'mx.policy-only.example' : 'mx.sts.example';
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`version: STSv1\r\nmode: enforce\r\nmx: ${mx}\r\nmax_age: 86400\r\n`);
  });
  await new Promise<void>((r) => policyServer.listen(0, '127.0.0.1', () => r()));
  const policyPort = (policyServer.address() as { port: number }).port;
  const caFile = join(dir.path, 'policy-ca.pem');
  writeFileSync(caFile, POLICY_CERT.cert);
  dns = await startDnsmasq(records());
  app = await startApplianceIn(dir.path, {
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_HOSTNAME: 'mx.delegato.test',
    DELEGATO_SMTP_OUTBOUND_PORT: String(sink.port),
    DELEGATO_QUEUE_RETRY_SCHEDULE: '1',
    DELEGATO_QUEUE_GIVE_UP_AFTER_SECONDS: '4',
    DELEGATO_AUTH_MTA_STS_POLICY_PORT: String(policyPort),
    DELEGATO_AUTH_MTA_STS_CA: caFile,
  });
  roseId = await addRose(app, PASSWORD);
  await app.store.ensureUser(roseId);
  // The domain's DKIM records, published as the zone fragment says (delegato dns zone).
  await dns.restart(records(await dkimRecords(app, 'iat.example')));
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await dns?.close();
  await new Promise((r) => policyServer?.close(r));
  dir.remove();
});

describe('DKIM signing', () => {
  it('a submitted message reaches the sink with two signatures that dkimverify accepts', async () => {
    const reply = await smtpSend(listenerPort(app, 'submission'), {
      from: ROSE,
      to: ['friend@elsewhere.example'],
      auth: { user: ROSE, password: PASSWORD },
      data: `From: Rose <${ROSE}>\r\nTo: <friend@elsewhere.example>\r\nSubject: signed\r\nDate: Sun, 06 Dec 2026 04:00:00 +0000\r\nMessage-ID: <signed@iat.example>\r\n\r\nHello, signed.\r\n`,
    });
    expect(reply.code).toBe(250);
    await sink.waitForMessages(1, 20_000);
    const data = sink.messages[0]?.data ?? Buffer.alloc(0);
    const text = data.toString();
    const sigs = text.match(/^DKIM-Signature:.*(?:\r\n[ \t].*)*/gim) ?? [];
    expect(sigs).toHaveLength(2);
    expect(sigs.some((s) => /a=ed25519-sha256/.test(s) && /d=iat\.example/.test(s))).toBe(true);
    expect(sigs.some((s) => /a=rsa-sha256/.test(s) && /d=iat\.example/.test(s))).toBe(true);
    for (const index of [0, 1]) {
      const v = await dkimverify(data, index, dns.port);
      expect(v.out.trim(), `signature ${index}`).toBe('signature ok');
      expect(v.code).toBe(0);
    }
    // The verifier is not a rubber stamp: a changed body fails both signatures.
    const tampered = Buffer.from(text.replace('Hello, signed.', 'Hello, changed.'));
    for (const index of [0, 1]) {
      const v = await dkimverify(tampered, index, dns.port);
      expect(v.code).not.toBe(0);
      expect(v.out).toMatch(/body hash mismatch|verification failed/);
    }
  }, 60_000);

  it('dkim rotate --prepare prints the new records to publish first; rotate activates them, the old stay published', async () => {
    const cli = (args: string[]) =>
      executeCommand(args, { directory: app.directory, actor: TEST_OPERATOR, queue: async () => app.queue });
    const prepared = await cli(['dkim', 'rotate', 'iat.example', '--prepare']);
    expect(prepared.code).toBe(0);
    const pending = (await app.directory.listDkimKeys(TEST_OPERATOR, 'iat.example')).filter(
      (k) => k.state === 'pending',
    );
    expect(pending).toHaveLength(2);
    for (const k of pending) expect(prepared.stdout).toContain(k.dnsName);
    await dns.restart(records(await dkimRecords(app, 'iat.example')));
    expect((await cli(['dkim', 'rotate', 'iat.example'])).code).toBe(0);
    // Signing keys are cached for a minute in the worker; a new appliance start would pick them at once.
    const listed = await cli(['dkim', 'list', 'iat.example']);
    expect(listed.stdout).toMatch(/active/);
    expect(listed.stdout).toMatch(/previous/);
  });
});

describe('MTA-STS', () => {
  it('enforce, MX without STARTTLS: nothing in clear, deferred, then bounced with a DSN that says why', async () => {
    const before = sink.transactions.length;
    const reply = await smtpSend(listenerPort(app, 'submission'), {
      from: ROSE,
      to: ['someone@sts.example'],
      auth: { user: ROSE, password: PASSWORD },
      data: `From: Rose <${ROSE}>\r\nTo: <someone@sts.example>\r\nSubject: sts\r\nMessage-ID: <sts@iat.example>\r\n\r\nNot in clear.\r\n`,
    });
    expect(reply.code).toBe(250);
    const dsn = await eventually('the bounce', async () =>
      (await folderMessages(app, roseId, 'INBOX')).find((m) => m.includes('someone@sts.example')),
    );
    expect(dsn).toMatch(/Action: failed/);
    expect(dsn).toMatch(/Status: 4\.7\.5/);
    // Diagnostic-Code may be folded (RFC 5322 §2.2.3).
    expect(dsn.replace(/\r?\n[ \t]+/g, ' ')).toMatch(
      /Diagnostic-Code: smtp; 451 4\.7\.5 MTA-STS policy of sts\.example \(enforce\) requires TLS/,
    );
    expect(sink.transactions.slice(before).filter((t) => t.to.includes('someone@sts.example'))).toEqual([]);
    const trace = await executeCommand(['trace', 'someone@sts.example', '--json'], {
      directory: app.directory,
      actor: TEST_OPERATOR,
      queue: async () => app.queue,
    });
    const events = (JSON.parse(trace.stdout) as Array<{ event: string }>).map((e) => e.event);
    expect(events).toContain('deferred');
    expect(events).toContain('bounced');
  }, 60_000);

  it('enforce, MX not named by the policy: nothing is sent to it, deferred, then bounced saying why', async () => {
    const before = sink.transactions.length;
    const reply = await smtpSend(listenerPort(app, 'submission'), {
      from: ROSE,
      to: ['someone@elsewhere-sts.example'],
      auth: { user: ROSE, password: PASSWORD },
      data: `From: Rose <${ROSE}>\r\nTo: <someone@elsewhere-sts.example>\r\nSubject: sts-mx\r\nMessage-ID: <sts-mx@iat.example>\r\n\r\nOnly to the policy's hosts.\r\n`,
    });
    expect(reply.code).toBe(250);
    const dsn = await eventually('the bounce', async () =>
      (await folderMessages(app, roseId, 'INBOX')).find((m) => m.includes('someone@elsewhere-sts.example')),
    );
    expect(dsn.replace(/\r?\n[ \t]+/g, ' ')).toMatch(
      /Diagnostic-Code: smtp; 451 4\.7\.5 MTA-STS policy of elsewhere-sts\.example \(enforce\) allows none of its MX hosts/,
    );
    expect(
      sink.transactions.slice(before).filter((t) => t.to.includes('someone@elsewhere-sts.example')),
    ).toEqual([]);
  }, 60_000);

  it('the web listener serves the policy of a hosted domain at mta-sts.<domain>, and nothing else', async () => {
    const get = (host: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: listenerPort(app, 'web'),
            path: '/.well-known/mta-sts.txt',
            headers: { host },
            rejectUnauthorized: false,
          },
          (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const ok = await get('mta-sts.iat.example');
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain/);
    expect(ok.body).toBe('version: STSv1\r\nmode: testing\r\nmx: mx.delegato.test\r\nmax_age: 604800\r\n');
    expect((await get('mta-sts.unknown.example')).status).toBe(404);
    expect((await get('iat.example')).status).toBe(404);
  });
});
