/**
 * Message authentication at the MX (issue 18), each case through the real MX with dnsmasq serving the
 * senders' SPF, DKIM and DMARC records: a correctly signed message passes (`dkim=pass`), a broken signature
 * is `dkim=fail`, a message failing SPF is `spf=fail`, DMARC `p=reject` is refused at the end of DATA with
 * 550 5.7.1, `p=quarantine` lands in the recipient's Junk folder, a hosted sender from outside failing SPF
 * and DKIM is refused; one `Authentication-Results` field with our authserv-id is added and forged ones are
 * removed. A forward to another domain leaves ARC-sealed by the forwarding domain (mailauth verifies the
 * chain against the published key); mail to the TLS-RPT address (postmaster@) is accepted.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  type DnsmasqRecords,
  type RunningDnsmasq,
  type RunningSmtpSink,
  startDnsmasq,
  startSmtpSink,
  tempDir,
} from '@delegato/testkit';
import { authenticate, dkimSign } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { addRose, startApplianceIn, TEST_OPERATOR } from './appliance-support.js';
import { dkimRecords, eventually, folderMessages, listenerPort, smtpSend } from './message-auth-support.js';

// Under a hosted domain: the DSNs it writes (From: MAILER-DAEMON@<host>) are signed by iat.example.
const HOST = 'mx.iat.example';
const ROSE = 'rose.pinkcheeks@iat.example';
const dir = tempDir('delegato-msgauth-in-');
let app: RunningAppliance;
let dns: RunningDnsmasq;
let sink: RunningSmtpSink;
let roseId = '';

// The senders' own DKIM key (good.example signs with it).
const senderKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const senderPem = senderKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const senderPub = senderKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function records(extra: Record<string, string> = {}): DnsmasqRecords {
  const elsewhere = '192.0.2.1';
  return {
    // Every name under .example that is not listed: NXDOMAIN (DMARC's tree walk asks about parents too).
    local: ['example', 'test'],
    MX: {
      'elsewhere.example': [{ priority: 10, exchange: 'mx.elsewhere.example' }],
      'good.example': [{ priority: 10, exchange: 'mx.elsewhere.example' }],
    },
    A: { 'mx.elsewhere.example': '127.0.0.1' },
    TXT: {
      'good.example': 'v=spf1 ip4:127.0.0.1 -all',
      'sel._domainkey.good.example': `v=DKIM1; k=rsa; p=${senderPub}`,
      '_dmarc.good.example': 'v=DMARC1; p=reject',
      'nospf.example': `v=spf1 ip4:${elsewhere} -all`,
      'reject.example': `v=spf1 ip4:${elsewhere} -all`,
      '_dmarc.reject.example': 'v=DMARC1; p=reject',
      'quarantine.example': `v=spf1 ip4:${elsewhere} -all`,
      '_dmarc.quarantine.example': 'v=DMARC1; p=quarantine',
      ...extra,
    },
  };
}

function message(from: string, subject: string, extraHeaders = ''): string {
  return `${extraHeaders}From: <${from}>\r\nTo: <${ROSE}>\r\nSubject: ${subject}\r\nDate: Sun, 06 Dec 2026 04:00:00 +0000\r\nMessage-ID: <${subject}@test>\r\n\r\nBody of ${subject}.\r\n`;
}

async function signed(raw: string): Promise<string> {
  const options = {
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: 'good.example', selector: 'sel', privateKey: senderPem }],
  };
  const r = await dkimSign(Buffer.from(raw), options as unknown as Parameters<typeof dkimSign>[1]);
  expect(r.signatures).toMatch(/^DKIM-Signature: /);
  return r.signatures + raw;
}

const mx = (from: string, data: string, to = [ROSE]) =>
  smtpSend(listenerPort(app, 'smtp'), { from, to, data });

/** The message with `subject` in Rose's `folder` (waits for it). */
const stored = (folder: string, subject: string) =>
  eventually(`${subject} in ${folder}`, async () =>
    (await folderMessages(app, roseId, folder)).find((m) => m.includes(`Subject: ${subject}`)),
  );

/** Our Authentication-Results fields (unfolded). */
function ourResults(msg: string): string[] {
  const head = msg.slice(0, msg.indexOf('\r\n\r\n'));
  return head
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')
    .filter((l) => /^authentication-results:\s*mx\.iat\.example;/i.test(l));
}

beforeAll(async () => {
  // The sink is every remote domain's MX; it refuses nobody@elsewhere.example (a forward that bounces).
  sink = await startSmtpSink({
    onRcpt: (a) =>
      a === 'nobody@elsewhere.example' ? { code: 550, message: '5.1.1 no such user' } : undefined,
  });
  dns = await startDnsmasq(records());
  app = await startApplianceIn(dir.path, {
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_HOSTNAME: HOST,
    DELEGATO_SMTP_OUTBOUND_PORT: String(sink.port),
    DELEGATO_AUTH_INBOUND: 'true',
    DELEGATO_SMTP_MAX_MESSAGE_BYTES: '65536',
  });
  roseId = await addRose(app, 'Auth-In-Pass-99');
  await app.store.ensureUser(roseId);
  await app.directory.addForward(TEST_OPERATOR, 'fwd@iat.example', 'friend@elsewhere.example');
  await app.directory.addForward(TEST_OPERATOR, 'gone@iat.example', 'nobody@elsewhere.example');
  await app.directory.createList(TEST_OPERATOR, {
    address: 'news@iat.example',
    owner: ROSE,
    senders: 'anyone',
    members: ['member@elsewhere.example'],
  });
  await dns.restart(records(await dkimRecords(app, 'iat.example')));
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await dns?.close();
  dir.remove();
});

describe('inbound checks at the MX', () => {
  it('a correctly signed message passes: dkim=pass, spf=pass, dmarc=pass; forged results removed, one added', async () => {
    const forged = `Authentication-Results: ${HOST}; dkim=pass header.d=iat.example; dmarc=pass\r\nAuthentication-Results: other.example; spf=pass\r\n`;
    const reply = await mx('news@good.example', await signed(message('news@good.example', 'good', forged)));
    expect(reply.code).toBe(250);
    const msg = await stored('INBOX', 'good');
    const ours = ourResults(msg);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/dkim=pass/);
    expect(ours[0]).toMatch(/header\.d=good\.example/);
    expect(ours[0]).toMatch(/spf=pass/);
    expect(ours[0]).toMatch(/dmarc=pass/);
    expect(ours[0]).not.toMatch(/header\.d=iat\.example/);
    // Another host's results are not ours to remove.
    expect(msg).toContain('Authentication-Results: other.example; spf=pass');
    // Ours is on top, above our Received.
    expect(msg.indexOf(`Authentication-Results: ${HOST}`)).toBeLessThan(msg.indexOf('Received:'));
  });

  it('a broken signature is dkim=fail (SPF still passes, aligned: delivered)', async () => {
    const raw = (await signed(message('news@good.example', 'broken'))).replace(
      'Body of broken.',
      'Body changed.',
    );
    expect((await mx('news@good.example', raw)).code).toBe(250);
    const ours = ourResults(await stored('INBOX', 'broken'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/dkim=fail/);
    expect(ours[0]).toMatch(/spf=pass/);
  });

  it('a message failing SPF (no DMARC policy) is spf=fail and delivered', async () => {
    expect((await mx('someone@nospf.example', message('someone@nospf.example', 'nospf'))).code).toBe(250);
    const ours = ourResults(await stored('INBOX', 'nospf'));
    expect(ours[0]).toMatch(/spf=fail/);
    expect(ours[0]).toMatch(/dmarc=none/);
  });

  it('DMARC fail with p=reject is refused at the end of DATA with 550 5.7.1', async () => {
    const reply = await mx('ceo@reject.example', message('ceo@reject.example', 'rejected'));
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/^550 5\.7\.1 /);
    expect(reply.text).toMatch(/p=reject/);
    const all = [
      ...(await folderMessages(app, roseId, 'INBOX')),
      ...(await folderMessages(app, roseId, 'Junk')),
    ];
    expect(all.some((m) => m.includes('Subject: rejected'))).toBe(false);
  });

  it("DMARC fail with p=quarantine goes to the recipient's Junk folder", async () => {
    expect((await mx('ceo@quarantine.example', message('ceo@quarantine.example', 'quarantined'))).code).toBe(
      250,
    );
    const msg = await stored('Junk', 'quarantined');
    expect(ourResults(msg)[0]).toMatch(/dmarc=fail/);
    expect((await folderMessages(app, roseId, 'INBOX')).some((m) => m.includes('Subject: quarantined'))).toBe(
      false,
    );
  });

  it('a hosted domain as sender from outside, failing SPF and DKIM, is refused without any DMARC record', async () => {
    const reply = await mx('rector@iat.example', message('rector@iat.example', 'spoofed'));
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/^550 5\.7\.1 .*iat\.example is hosted here/);
  });

  it('mail to the TLS-RPT address (postmaster@, named in _smtp._tls) is accepted', async () => {
    const reply = await mx('reports@good.example', await signed(message('reports@good.example', 'tlsrpt')), [
      'postmaster@iat.example',
    ]);
    expect(reply.code).toBe(250);
  });

  it('a forward to another domain leaves ARC-sealed by the forwarding domain; the chain verifies', async () => {
    const reply = await mx('news@good.example', await signed(message('news@good.example', 'forwarded')), [
      'fwd@iat.example',
    ]);
    expect(reply.code).toBe(250);
    await eventually('the forward at the sink', async () =>
      sink.messages.find((m) => m.data.includes('Subject: forwarded')),
    );
    const out = sink.messages.find((m) => m.data.includes('Subject: forwarded'))?.data ?? Buffer.alloc(0);
    const text = out.toString();
    expect(text).toMatch(/^ARC-Seal: i=1; .*d=iat\.example/m);
    expect(text).toMatch(/^ARC-Message-Signature: i=1;/m);
    expect(text).toMatch(/^ARC-Authentication-Results: i=1; mx\.iat\.example;/m);
    // Not DKIM-signed by iat.example: the author is good.example.
    expect(text).not.toMatch(/^DKIM-Signature:.*d=iat\.example/m);
    const { createAuthResolver } = await import('@delegato/mta');
    const verified = await authenticate(out, {
      ip: '127.0.0.1',
      helo: HOST,
      sender: 'news@good.example',
      mta: 'receiver.test',
      resolver: createAuthResolver([dns.server]) as never,
      disableBimi: true,
    });
    expect(verified.arc ? verified.arc.status.result : 'no ARC result').toBe('pass');
  });

  it('a built-in list expanding mail from outside seals each copy with the list domain (ARC)', async () => {
    const reply = await mx('news@good.example', await signed(message('news@good.example', 'listed')), [
      'news@iat.example',
    ]);
    expect(reply.code).toBe(250);
    const copy = await eventually('the list copy at the sink', async () =>
      sink.messages.find(
        (m) => m.to.includes('member@elsewhere.example') && m.data.includes('Subject: listed'),
      ),
    );
    const text = copy.data.toString();
    expect(copy.from).toBe('news-bounces@iat.example');
    expect(text).toMatch(/^ARC-Seal: i=1; .*d=iat\.example/m);
    const { createAuthResolver } = await import('@delegato/mta');
    const verified = await authenticate(copy.data, {
      ip: '127.0.0.1',
      helo: HOST,
      sender: copy.from,
      mta: 'receiver.test',
      resolver: createAuthResolver([dns.server]) as never,
      disableBimi: true,
    });
    expect(verified.arc ? verified.arc.status.result : 'no ARC result').toBe('pass');
  }, 60_000);

  it('the DSN the appliance writes for a bounced forward is DKIM-signed by the hosted domain of its host name', async () => {
    const reply = await mx('news@good.example', await signed(message('news@good.example', 'bounces')), [
      'gone@iat.example',
    ]);
    expect(reply.code).toBe(250);
    const dsn = await eventually("the DSN at the sender's MX", async () =>
      sink.messages.find((m) => m.from === '' && m.data.includes('nobody@elsewhere.example')),
    );
    const text = dsn.data.toString();
    expect(text).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@mx\.iat\.example>/m);
    // The DSN's own header (the original inside it keeps good.example's signature).
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    const sigs = head.match(/^DKIM-Signature:.*(?:\r\n[ \t].*)*/gim) ?? [];
    expect(sigs).toHaveLength(2);
    for (const s of sigs) expect(s).toMatch(/d=iat\.example/);
    const { createAuthResolver } = await import('@delegato/mta');
    const verified = await authenticate(dsn.data, {
      ip: '127.0.0.1',
      helo: HOST,
      sender: '',
      mta: 'receiver.test',
      resolver: createAuthResolver([dns.server]) as never,
      disableBimi: true,
    });
    expect(verified.dkim.results?.map((r) => r.status.result)).toEqual(['pass', 'pass']);
  }, 60_000);

  it('a message over the size limit is refused with 552 5.3.4 after its data, checks or not', async () => {
    const big = message('news@good.example', 'too-big').replace('Body of too-big.', 'x'.repeat(70_000));
    const reply = await mx('news@good.example', big);
    expect(reply.code).toBe(552);
    expect(reply.text).toMatch(/^552 5\.3\.4 /);
  });
});
