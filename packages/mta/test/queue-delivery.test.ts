/**
 * Queue delivery end to end on loopback: a real queue (libSQL file, spool files) in a temp dir, the loopback
 * DNS server of the testkit answering MX/A queries, and smtp-server sinks on 127.0.1.x standing in for the
 * remote MX hosts (all on one port: DELEGATO_SMTP_OUTBOUND_PORT's role is played by the worker's `port`).
 */
import { existsSync } from 'node:fs';
import {
  type DnsRecords,
  type RunningDnsServer,
  type RunningSmtpSink,
  recordingLogger,
  type SmtpSinkOptions,
  selfSignedCert,
  startDnsServer,
  startSmtpSink,
  tempDir,
} from '@delegato/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResolver } from '../src/dns.js';
import { OutboundQueue } from '../src/queue/outbound-queue.js';
import { parseReply, QueueWorker, type QueueWorkerOptions } from '../src/queue/worker.js';
import { srsReverse } from '../src/srs.js';
import { Clock, enqueue, freePort, outcomeRecorder, remote } from './queue-helpers.js';

const MINUTE = 60_000;
const SCHEDULE = [60, 300, 900];

let dir: { path: string; remove: () => void };
let clock: Clock;
let queue: OutboundQueue;
let dns: RunningDnsServer;
let records: DnsRecords;
let port: number;
const sinks: RunningSmtpSink[] = [];

/** Starts a sink on 127.0.1.<n>, on the shared port (the first sink picks it). */
async function sink(n: number, opts: SmtpSinkOptions = {}): Promise<RunningSmtpSink> {
  const s = await startSmtpSink({ host: `127.0.1.${n}`, port, ...opts });
  sinks.push(s);
  return s;
}

function worker(opts: Partial<QueueWorkerOptions> = {}): QueueWorker {
  return new QueueWorker({
    queue,
    resolver: createResolver([dns.server], { timeoutMs: 500, tries: 1 }),
    hostname: 'out.delegato.test',
    port,
    retrySchedule: SCHEDULE,
    now: clock.now,
    shuffle: (x) => x,
    timeouts: { connectMs: 2_000, greetingMs: 5_000, socketMs: 5_000 },
    ...opts,
  });
}

beforeEach(async () => {
  dir = tempDir('delegato-queue-');
  clock = new Clock();
  queue = await OutboundQueue.open({ dir: dir.path, now: clock.now });
  records = {
    'one.example': { MX: [{ priority: 10, exchange: 'mx.one.example' }] },
    'mx.one.example': { A: ['127.0.1.1'] },
  };
  dns = await startDnsServer(records);
  port = await freePort('127.0.1.1');
});

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  await dns.close();
  await queue.close();
  dir.remove();
});

async function states(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const m of await queue.list()) for (const r of m.recipients) out[r.address] = r.state;
  return out;
}

describe('delivery by MX', () => {
  it('uses the most preferred MX, falls back to the next one when it does not answer', async () => {
    records['two.example'] = {
      MX: [
        { priority: 20, exchange: 'backup.two.example' },
        { priority: 10, exchange: 'primary.two.example' },
      ],
    };
    records['primary.two.example'] = { A: ['127.0.1.2'] };
    records['backup.two.example'] = { A: ['127.0.1.3'] };
    const primary = await sink(2);
    const backup = await sink(3);
    await enqueue(queue, { recipients: [remote('bob@two.example')] });
    await worker().runOnce();
    expect(primary.messages).toHaveLength(1);
    expect(backup.messages).toHaveLength(0);
    expect(await queue.list()).toEqual([]);

    // The primary is down (connection refused): the backup gets the next message.
    await primary.close();
    await enqueue(queue, { recipients: [remote('carol@two.example')] });
    await worker().runOnce();
    expect(backup.messages.map((m) => m.to)).toEqual([['carol@two.example']]);
    expect(await queue.list()).toEqual([]);
  });

  it('tries the next MX when one greets with 421, and every address of a host', async () => {
    records['three.example'] = {
      MX: [
        { priority: 5, exchange: 'busy.three.example' },
        { priority: 10, exchange: 'multi.three.example' },
      ],
    };
    records['busy.three.example'] = { A: ['127.0.1.4'] };
    // First address: nothing listens there.
    records['multi.three.example'] = { A: ['127.0.1.250', '127.0.1.5'] };
    const busy = await sink(4, { greeting: { code: 421, message: 'too busy' } });
    const good = await sink(5);
    await enqueue(queue, { recipients: [remote('dan@three.example')] });
    await worker().runOnce();
    expect(busy.messages).toHaveLength(0);
    expect(good.messages).toHaveLength(1);
  });

  it('delivers to the domain itself when it has no MX (implicit MX, RFC 5321 §5.1)', async () => {
    records['implicit.example'] = { A: ['127.0.1.6'] };
    const s = await sink(6);
    await enqueue(queue, { recipients: [remote('erin@implicit.example')] });
    await worker().runOnce();
    expect(s.messages.map((m) => m.to)).toEqual([['erin@implicit.example']]);
  });

  it('bounces at once for a null MX (RFC 7505), NXDOMAIN, and a domain with neither MX nor address', async () => {
    records['null.example'] = { MX: [{ priority: 0, exchange: '.' }] };
    records['bare.example'] = {};
    const rec = outcomeRecorder();
    await enqueue(queue, {
      recipients: [remote('a@null.example'), remote('b@nowhere.example'), remote('c@bare.example')],
    });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    const byRcpt = Object.fromEntries(rec.events.map((e) => [e.recipients[0]?.address, e.reply.text]));
    expect(rec.events.every((e) => e.kind === 'bounced' && !e.expired)).toBe(true);
    expect(byRcpt['a@null.example']).toMatch(/^556 5\.1\.10 /);
    expect(byRcpt['b@nowhere.example']).toMatch(/^550 5\.1\.2 /);
    expect(byRcpt['c@bare.example']).toMatch(/^550 5\.1\.2 .*no MX and no address/);
    expect(await queue.list()).toEqual([]);
  });

  it('defers on SERVFAIL and on MX hosts without addresses', async () => {
    records['broken.example'] = { rcode: 'SERVFAIL' };
    records['dangling.example'] = { MX: [{ priority: 10, exchange: 'gone.dangling.example' }] };
    await enqueue(queue, { recipients: [remote('a@broken.example'), remote('b@dangling.example')] });
    await worker().runOnce();
    const [m] = await queue.list();
    const replies = Object.fromEntries((m?.recipients ?? []).map((r) => [r.address, r.lastReply]));
    expect(m?.recipients.map((r) => r.state)).toEqual(['queued', 'queued']);
    expect(replies['a@broken.example']).toMatch(/^451 4\.4\.3 /);
    expect(replies['b@dangling.example']).toMatch(/^451 4\.4\.4 .*no address/);
  });

  it('delivers through an MX whose AAAA lookup is refused (A answered), with a log line', async () => {
    records['v4.example'] = { MX: [{ priority: 10, exchange: 'mx.v4.example' }] };
    records['mx.v4.example'] = { A: ['127.0.1.7'], rcodeFor: { AAAA: 'REFUSED' } };
    records['v4b.example'] = { MX: [{ priority: 10, exchange: 'mx.v4b.example' }] };
    records['mx.v4b.example'] = { A: ['127.0.1.7'], rcodeFor: { AAAA: 'SERVFAIL' } };
    const s = await sink(7);
    const { logger, problems } = recordingLogger();
    const rec = outcomeRecorder();
    await enqueue(queue, { recipients: [remote('fay@v4.example')] });
    await enqueue(queue, { recipients: [remote('gus@v4b.example')] });
    await worker({ logger, onOutcome: rec.onOutcome }).runOnce();
    expect(s.messages.map((m) => m.to).sort()).toEqual([['fay@v4.example'], ['gus@v4b.example']]);
    expect(rec.summary().map((e) => e.kind)).toEqual(['delivered', 'delivered']);
    expect(await queue.list()).toEqual([]);
    const lines = problems.map((p) => (p as [string, Record<string, unknown>])[1]);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'queue.dns_partial', host: 'mx.v4.example', code: 'EREFUSED' }),
        expect.objectContaining({ event: 'queue.dns_partial', host: 'mx.v4b.example', code: 'ESERVFAIL' }),
      ]),
    );
  });

  it('defers when no address can be found: AAAA refused and no A record, or both refused', async () => {
    records['noa.example'] = { MX: [{ priority: 10, exchange: 'mx.noa.example' }] };
    records['mx.noa.example'] = { rcodeFor: { AAAA: 'REFUSED' } };
    records['nob.example'] = { MX: [{ priority: 10, exchange: 'mx.nob.example' }] };
    records['mx.nob.example'] = { rcodeFor: { A: 'REFUSED', AAAA: 'REFUSED' } };
    await enqueue(queue, { recipients: [remote('a@noa.example'), remote('b@nob.example')] });
    await worker().runOnce();
    const [m] = await queue.list();
    const replies = Object.fromEntries((m?.recipients ?? []).map((r) => [r.address, r.lastReply]));
    expect(m?.recipients.map((r) => r.state)).toEqual(['queued', 'queued']);
    expect(replies['a@noa.example']).toMatch(/^451 4\.4\.3 DNS failure: mx\.noa\.example AAAA: .*EREFUSED/);
    expect(replies['b@nob.example']).toMatch(/^451 4\.4\.3 DNS failure: mx\.nob\.example A: .*EREFUSED/);
  });
});

describe('replies, retries and giving up', () => {
  it('bounces 5xx, defers 4xx, delivers 2xx, per recipient', async () => {
    await sink(1, {
      onRcpt: (a) =>
        a.startsWith('unknown')
          ? { code: 550, message: 'No such user' }
          : a.startsWith('full')
            ? { code: 452, message: 'Mailbox full' }
            : undefined,
    });
    const rec = outcomeRecorder();
    await enqueue(queue, {
      recipients: [remote('ok@one.example'), remote('unknown@one.example'), remote('full@one.example')],
    });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    expect(rec.summary()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'delivered', rcpts: ['ok@one.example'], code: 250 }),
        expect.objectContaining({ kind: 'bounced', rcpts: ['unknown@one.example'], code: 550 }),
      ]),
    );
    expect(rec.events).toHaveLength(2);
    expect(await states()).toEqual({
      'ok@one.example': 'delivered',
      'unknown@one.example': 'bounced',
      'full@one.example': 'queued',
    });
  });

  it('bounces when DATA is refused with 5xx', async () => {
    const s = await sink(1, { onData: () => ({ code: 554, message: 'Message refused' }) });
    const rec = outcomeRecorder();
    await enqueue(queue, { recipients: [remote('x@one.example')] });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    expect(s.transactions).toHaveLength(1);
    expect(rec.summary()).toEqual([expect.objectContaining({ kind: 'bounced', code: 554 })]);
    expect(await queue.list()).toEqual([]);
  });

  it('a host that is down: deferred by the schedule, then delivered exactly once when it is back', async () => {
    const id = await enqueue(queue, {
      recipients: [remote('bob@one.example')],
      messageId: '<down@origin.example>',
    });
    const w = worker();
    await w.runOnce(); // nothing listens on 127.0.1.1:port
    let [m] = await queue.list();
    expect(m?.recipients[0]).toMatchObject({ state: 'queued', attempts: 1 });
    expect(m?.recipients[0]?.lastReply).toMatch(/^451 4\.4\.1 mx\.one\.example: /);
    expect(m?.recipients[0]?.nextAttemptAt).toBe(new Date(clock.ms + 60_000).toISOString());

    // Not due yet: nothing happens.
    clock.advance(30_000);
    await w.runOnce();
    [m] = await queue.list();
    expect(m?.recipients[0]?.attempts).toBe(1);

    // Due, still down: the second step of the schedule.
    clock.advance(30_000);
    await w.runOnce();
    [m] = await queue.list();
    expect(m?.recipients[0]).toMatchObject({
      attempts: 2,
      nextAttemptAt: new Date(clock.ms + 300_000).toISOString(),
    });

    // Back up.
    const s = await sink(1);
    clock.advance(300_000);
    await w.runOnce();
    await w.runOnce();
    clock.advance(3_600_000);
    await w.runOnce();
    expect(s.messages).toHaveLength(1);
    expect(await queue.list()).toEqual([]);

    const trace = await queue.trace('<down@origin.example>');
    expect(trace.map((e) => e.event)).toEqual(['received', 'deferred', 'deferred', 'delivered']);
    expect(trace.every((e) => e.messageId === id)).toBe(true);
    expect(trace[3]).toMatchObject({ remoteHost: 'mx.one.example', recipient: 'bob@one.example' });
    expect((await queue.trace('bob@one.example')).map((e) => e.event)).toEqual([
      'received',
      'deferred',
      'deferred',
      'delivered',
    ]);
    expect((await queue.trace(id)).length).toBe(4);
  });

  it('gives up after giveUpAfterMs: bounced with the last reply, marked expired', async () => {
    await sink(1, { onRcpt: () => ({ code: 451, message: 'Try again later' }) });
    const rec = outcomeRecorder();
    const w = worker({
      giveUpAfterMs: 60 * MINUTE,
      onOutcome: rec.onOutcome,
      delayNotifyAfterMs: 24 * 60 * MINUTE,
    });
    await enqueue(queue, { recipients: [remote('slow@one.example')] });
    await w.runOnce();
    expect(await states()).toEqual({ 'slow@one.example': 'queued' });
    // Retries at +1, +6, +21, +36, +51 min, then at the deadline (+60): that one fails and bounces.
    for (let i = 0; i < 10; i++) {
      clock.advance(15 * MINUTE);
      await w.runOnce();
    }
    expect(rec.summary()).toEqual([
      { kind: 'bounced', rcpts: ['slow@one.example'], code: 451, passedOn: false, expired: true },
    ]);
    expect(await queue.list()).toEqual([]);
    const trace = await queue.trace('slow@one.example');
    expect(trace.at(-1)).toMatchObject({ event: 'bounced' });
    expect(trace.filter((e) => e.event === 'deferred').length).toBeGreaterThanOrEqual(4);
  });

  it('emits one delay notice per recipient once it has waited delayNotifyAfterMs', async () => {
    await sink(1, { onRcpt: () => ({ code: 451, message: 'Greylisted' }) });
    const rec = outcomeRecorder();
    const w = worker({ delayNotifyAfterMs: 10 * MINUTE, onOutcome: rec.onOutcome });
    await enqueue(queue, { recipients: [remote('grey@one.example', { notify: ['DELAY', 'FAILURE'] })] });
    await w.runOnce();
    expect(rec.events).toHaveLength(0);
    for (let i = 0; i < 6; i++) {
      clock.advance(5 * MINUTE);
      await w.runOnce();
    }
    expect(rec.summary()).toEqual([
      { kind: 'delayed', rcpts: ['grey@one.example'], code: 451, passedOn: false, expired: false },
    ]);
    const [m] = await queue.list();
    expect(m?.recipients[0]?.delayNotifiedAt).toBeTruthy();
    // A new worker (a restart) does not send it again.
    clock.advance(60 * MINUTE);
    await worker({ delayNotifyAfterMs: 10 * MINUTE, onOutcome: rec.onOutcome }).runOnce();
    expect(rec.events.filter((e) => e.kind === 'delayed')).toHaveLength(1);
  });

  it('retry() makes a deferred message due now; delete() removes it without delivery', async () => {
    const id = await enqueue(queue, { recipients: [remote('r@one.example')] });
    const w = worker();
    await w.runOnce();
    const s = await sink(1);
    await w.runOnce();
    expect(s.messages).toHaveLength(0);
    expect(await queue.retry(id)).toBe(1);
    await w.runOnce();
    expect(s.messages).toHaveLength(1);

    records['down.example'] = { MX: [{ priority: 10, exchange: 'mx.down.example' }] };
    records['mx.down.example'] = { A: ['127.0.1.200'] };
    const id2 = await enqueue(queue, { recipients: [remote('r2@down.example')] });
    await w.runOnce();
    const spool = (await queue.get(id2))?.spoolFile ?? '';
    expect(existsSync(queue.spoolPath(spool))).toBe(true);
    expect(await queue.delete(id2)).toBe(true);
    expect(await queue.delete(id2)).toBe(false);
    expect(existsSync(queue.spoolPath(spool))).toBe(false);
    expect(await queue.list()).toEqual([]);
    expect((await queue.trace(id2)).map((e) => e.event)).toEqual(['received', 'deferred', 'deleted']);
  });
});

describe('TLS', () => {
  it('uses STARTTLS when offered, without checking the certificate (opportunistic)', async () => {
    const s = await sink(1, { starttls: true });
    await enqueue(queue, { recipients: [remote('tls@one.example')] });
    await worker().runOnce();
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.secure).toBe(true);
    expect(s.messages[0]?.requireTls).toBe(false);
  });

  it('falls back to plain text when an opportunistic handshake fails', async () => {
    const s = await sink(1, { starttls: true });
    await enqueue(queue, { recipients: [remote('fallback@one.example')] });
    // Verification on and an untrusted certificate: the handshake fails.
    await worker({ tls: { rejectUnauthorized: true } }).runOnce();
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.secure).toBe(false);
  });

  it('REQUIRETLS: never sent without STARTTLS or to an unverified certificate; deferred, then bounced at give-up', async () => {
    const plain = await sink(1);
    const rec = outcomeRecorder();
    await enqueue(queue, { recipients: [remote('secret@one.example')], requireTls: true });
    const w = worker({ onOutcome: rec.onOutcome, giveUpAfterMs: 10 * MINUTE });
    await w.runOnce();
    expect(plain.transactions).toHaveLength(0);
    const [m] = await queue.list();
    expect(m?.recipients[0]?.lastReply).toMatch(/^451 4\.7\.30 REQUIRETLS: /);

    // STARTTLS offered, but the certificate is not trusted.
    await plain.close();
    sinks.splice(0);
    const untrusted = await sink(1, { starttls: true });
    clock.advance(MINUTE);
    await w.runOnce();
    expect(untrusted.transactions).toHaveLength(0);

    clock.advance(10 * MINUTE);
    await w.runOnce();
    expect(rec.summary()).toEqual([expect.objectContaining({ kind: 'bounced', expired: true })]);
    expect(rec.events[0]?.reply.text).toMatch(/4\.7\.30/);
  });

  it('REQUIRETLS: delivered over verified TLS with REQUIRETLS on MAIL FROM', async () => {
    const cert = selfSignedCert(['mx.one.example']);
    const s = await sink(1, { starttls: true, tls: cert });
    await enqueue(queue, { recipients: [remote('secret@one.example')], requireTls: true });
    await worker({ tls: { ca: cert.cert } }).runOnce();
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ secure: true, requireTls: true });
  });

  it('REQUIRETLS: not sent to a next hop that does not advertise REQUIRETLS (RFC 8689 §4.2)', async () => {
    const cert = selfSignedCert(['mx.one.example']);
    const s = await sink(1, { starttls: true, tls: cert, hideREQUIRETLS: true });
    await enqueue(queue, { recipients: [remote('secret@one.example')], requireTls: true });
    await worker({ tls: { ca: cert.cert } }).runOnce();
    expect(s.transactions).toHaveLength(0);
    const [m] = await queue.list();
    expect(m?.recipients[0]?.lastReply).toMatch(/^451 4\.7\.30 REQUIRETLS: mx\.one\.example: .*REQUIRETLS/);
  });
});

describe('DSN parameters (RFC 3461)', () => {
  it('passes ENVID, RET, NOTIFY and ORCPT to a next hop that advertises DSN, one transaction per set', async () => {
    const s = await sink(1);
    const rec = outcomeRecorder();
    await enqueue(queue, {
      envid: 'env+id=1',
      ret: 'HDRS',
      recipients: [
        remote('a@one.example', { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;list+x@ours.example' }),
        remote('b@one.example', { notify: ['NEVER'] }),
        remote('c@one.example', { notify: ['FAILURE', 'SUCCESS'], orcpt: 'rfc822;list+x@ours.example' }),
      ],
    });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    expect(s.messages).toHaveLength(2);
    const byFirst = Object.fromEntries(s.messages.map((m) => [m.to[0], m]));
    expect(byFirst['a@one.example']).toMatchObject({
      envid: 'env+id=1',
      ret: 'HDRS',
      to: ['a@one.example', 'c@one.example'],
      recipients: [
        { address: 'a@one.example', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;list+x@ours.example' },
        { address: 'c@one.example', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;list+x@ours.example' },
      ],
    });
    expect(byFirst['b@one.example']?.recipients).toEqual([
      { address: 'b@one.example', notify: ['NEVER'], orcpt: null },
    ]);
    expect(rec.events.every((e) => e.kind === 'delivered' && e.passedOn)).toBe(true);
    expect(await queue.list()).toEqual([]);
  });

  it('reports `relayed` for NOTIFY=SUCCESS when the next hop does not advertise DSN', async () => {
    const s = await sink(1, { hideDSN: true });
    const rec = outcomeRecorder();
    await enqueue(queue, {
      envid: 'e1',
      recipients: [
        remote('wants@one.example', { notify: ['SUCCESS'], orcpt: 'rfc822;wants@one.example' }),
        remote('plain@one.example'),
      ],
    });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    // No DSN: the parameters are not sent, and one transaction carries both.
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ envid: null, ret: null });
    expect(s.messages[0]?.recipients.every((r) => r.notify === null && r.orcpt === null)).toBe(true);
    expect(rec.summary()).toEqual(
      expect.arrayContaining([
        { kind: 'relayed', rcpts: ['wants@one.example'], code: 250, passedOn: false, expired: false },
        { kind: 'delivered', rcpts: ['plain@one.example'], code: 250, passedOn: false, expired: false },
      ]),
    );
    expect((await queue.trace('wants@one.example')).map((e) => e.event)).toEqual(['received', 'relayed']);
  });
});

describe('envelope and content', () => {
  it('rewrites the sender with SRS for forwards and list expansions, not for other recipients', async () => {
    const s = await sink(1);
    const secret = Buffer.from('srs secret for tests');
    await enqueue(queue, {
      recipients: [
        remote('forwarded@one.example', { orcpt: 'rfc822;alias@ours.example' }),
        remote('direct@one.example', { orcpt: 'rfc822;direct@one.example' }),
      ],
    });
    await worker({ srs: { secret, domain: 'ours.example' } }).runOnce();
    const byRcpt = Object.fromEntries(s.messages.map((m) => [m.to[0], m.from]));
    expect(byRcpt['direct@one.example']).toBe('alice@origin.example');
    const rewritten = byRcpt['forwarded@one.example'] ?? '';
    expect(rewritten).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=origin\.example=alice@ours\.example$/);
    expect(srsReverse(rewritten, { secret, now: clock.now() })).toBe('alice@origin.example');
  });

  it('keeps the null sender, strips our Return-Path, keeps the bytes (dot-stuffing undone at the sink)', async () => {
    const s = await sink(1);
    await enqueue(queue, {
      sender: '',
      recipients: [remote('x@one.example', { orcpt: 'rfc822;y@ours.example' })],
      body: '.leading dot\r\nend',
    });
    await worker({ srs: { secret: Buffer.from('k'), domain: 'ours.example' } }).runOnce();
    expect(s.messages[0]?.from).toBe('');
    const text = s.messages[0]?.data.toString('utf8') ?? '';
    expect(text.startsWith('Received: from client')).toBe(true);
    expect(text).not.toMatch(/^Return-Path:/im);
    expect(text).toContain('\r\n.leading dot\r\nend\r\n');
  });
});

describe('concurrency', () => {
  it('keeps to concurrencyPerDestination connections to one domain', async () => {
    const s = await sink(1, { onData: () => new Promise((r) => setTimeout(() => r(undefined), 150)) });
    for (let i = 0; i < 6; i++) await enqueue(queue, { recipients: [remote(`u${i}@one.example`)] });
    await worker({ concurrencyPerDestination: 2 }).runOnce();
    expect(s.messages).toHaveLength(6);
    expect(s.maxConcurrent).toBe(2);
  });

  it('sends at most 100 recipients per transaction (RFC 5321 §4.5.3.1.8)', async () => {
    const s = await sink(1);
    await enqueue(queue, { recipients: Array.from({ length: 150 }, (_, i) => remote(`m${i}@one.example`)) });
    await worker().runOnce();
    expect(s.messages.map((m) => m.to.length)).toEqual([100, 50]);
    expect(s.connections).toBe(1);
    expect(await queue.list()).toEqual([]);
  });

  it('keeps to maxConcurrency across domains', async () => {
    records['alt.example'] = { MX: [{ priority: 10, exchange: 'mx.one.example' }] };
    const s = await sink(1, { onData: () => new Promise((r) => setTimeout(() => r(undefined), 100)) });
    for (let i = 0; i < 3; i++) {
      await enqueue(queue, { recipients: [remote(`u${i}@one.example`)] });
      await enqueue(queue, { recipients: [remote(`u${i}@alt.example`)] });
    }
    await worker({ concurrencyPerDestination: 5, maxConcurrency: 1 }).runOnce();
    expect(s.messages).toHaveLength(6);
    expect(s.maxConcurrent).toBe(1);
  });
});

describe('regions, the loop, the DSN hook', () => {
  it('keeps region-routed recipients queued while there is no route, then delivers over TLS', async () => {
    const rec = outcomeRecorder();
    await enqueue(queue, {
      recipients: [{ address: 'far@north.example', route: 'region', region: 'north' }],
    });
    await worker({ onOutcome: rec.onOutcome }).runOnce();
    const [m] = await queue.list();
    expect(m?.recipients[0]?.lastReply).toBe('451 4.4.4 No route to region north');

    const cert = selfSignedCert(['north.delegato.test']);
    const s = await sink(7, { starttls: true, tls: cert });
    clock.advance(MINUTE);
    await worker({
      onOutcome: rec.onOutcome,
      routeRegion: (r) =>
        r === 'north'
          ? { host: '127.0.1.7', port, tls: { ca: cert.cert, servername: 'north.delegato.test' } }
          : null,
    }).runOnce();
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.secure).toBe(true);
    expect(rec.summary()).toEqual([expect.objectContaining({ kind: 'delivered', passedOn: true })]);
  });

  it('start() delivers what is enqueued without being asked; stop() waits for deliveries in flight', async () => {
    const s = await sink(1);
    const w = worker({ pollIntervalMs: 60_000 });
    w.start();
    await enqueue(queue, { recipients: [remote('loop@one.example')] });
    await s.waitForMessages(1);
    await w.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(await queue.list()).toEqual([]);
  });

  it('an outcome hook that fails is called again by the next pass; the message is kept until then', async () => {
    await sink(1);
    let calls = 0;
    const onOutcome = async () => {
      calls++;
      if (calls === 1) throw new Error('DSN generator down');
    };
    await enqueue(queue, { recipients: [remote('hook@one.example')] });
    const w = worker({ onOutcome });
    await w.runOnce();
    expect(calls).toBe(1);
    const [m] = await queue.list();
    expect(m?.recipients[0]).toMatchObject({ state: 'delivered', outcomePending: true });
    await w.runOnce();
    expect(calls).toBe(2);
    expect(await queue.list()).toEqual([]);
  });
});

describe('parseReply', () => {
  it('reads code and enhanced code, and joins multi-line replies', () => {
    expect(parseReply('550 5.1.1 No such user')).toEqual({
      code: 550,
      enhanced: '5.1.1',
      text: '550 5.1.1 No such user',
    });
    expect(parseReply('550-5.7.1 Refused\n550-5.7.1 see https://x.example\n550 5.7.1 bye')).toEqual({
      code: 550,
      enhanced: '5.7.1',
      text: '550 5.7.1 Refused see https://x.example bye',
    });
    expect(parseReply('451 Try later')).toEqual({ code: 451, enhanced: null, text: '451 Try later' });
    expect(parseReply('garbage')).toEqual({ code: 0, enhanced: null, text: 'garbage' });
  });
});
