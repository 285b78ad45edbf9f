/**
 * DSNs (RFC 3461–3464, RFC 6522): the generated messages are parsed by an independent implementation,
 * Python's `email` package, and the policy and status tables are checked one by one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originalBytes } from '../src/dsn/build.js';
import {
  buildDsn,
  type DsnInput,
  type DsnRecipient,
  shouldSendDsn,
  statusForReply,
} from '../src/dsn/index.js';

const PARSE = `
import sys, json, email, email.policy, hashlib

def fields(m):
    return {k: str(v) for k, v in m.items()}

msg = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)
out = {
    'contentType': msg.get_content_type(),
    'reportType': msg.get_param('report-type'),
    'headers': fields(msg),
    'defects': [type(d).__name__ for d in msg.defects],
    'parts': [],
}
for p in msg.get_payload():
    ct = p.get_content_type()
    info = {'contentType': ct, 'cte': p.get('Content-Transfer-Encoding'),
            'defects': [type(d).__name__ for d in p.defects]}
    if ct == 'message/delivery-status':
        blocks = p.get_payload()
        info['perMessage'] = fields(blocks[0])
        info['recipients'] = [fields(b) for b in blocks[1:]]
    elif ct == 'message/rfc822':
        inner = p.get_payload()[0]
        body = inner.get_payload(decode=True)
        info['inner'] = {
            'headers': fields(inner),
            'bodyLength': len(body),
            'bodySha256': hashlib.sha256(body).hexdigest(),
            'bodyText': body[:200].decode('utf-8', 'replace'),
        }
    else:
        info['text'] = p.get_content()
    out['parts'].append(info)
json.dump(out, sys.stdout)
`;

interface Parsed {
  contentType: string;
  reportType: string | null;
  headers: Record<string, string>;
  defects: string[];
  parts: Array<{
    contentType: string;
    cte: string | null;
    defects: string[];
    perMessage?: Record<string, string>;
    recipients?: Array<Record<string, string>>;
    inner?: { headers: Record<string, string>; bodyLength: number; bodySha256: string; bodyText: string };
    text?: string;
  }>;
}

/** Python's parser hands bodies back with LF line ends. */
const lf = (s: string) => s.replace(/\r\n/g, '\n');

/** Streams the DSN into `python3` and returns what its email parser saw. */
async function parseWithPython(dsn: Readable): Promise<Parsed> {
  const child = spawn('python3', ['-c', PARSE], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(dsn, child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`python3 failed (${code}): ${Buffer.concat(err).toString()}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as Parsed;
}

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const ORIGINAL_HEADERS =
  'Return-Path: <alice@sender.example>\r\n' +
  'From: Alice <alice@sender.example>\r\n' +
  'To: team@delegato.example\r\n' +
  'Subject: Quarterly figures\r\n' +
  'Message-ID: <q1@sender.example>\r\n' +
  'Date: Mon, 2 Mar 2026 09:00:00 +0000\r\n';
const ORIGINAL_BODY = 'Here are the figures.\r\nRegards, Alice\r\n';
const ORIGINAL = Buffer.from(`${ORIGINAL_HEADERS}\r\n${ORIGINAL_BODY}`);

const ARRIVAL = new Date('2026-03-02T09:00:05Z');
const NOW = new Date('2026-03-02T09:30:00Z');

function input(over: Partial<DsnInput> & { recipients: DsnRecipient[] }): DsnInput {
  return {
    reportingHost: 'mx1.delegato.example',
    sender: 'alice@sender.example',
    arrivalDate: ARRIVAL,
    now: NOW,
    original: () => Readable.from([ORIGINAL]),
    ...over,
  };
}

const failed: DsnRecipient = {
  finalRecipient: 'bob@remote.example',
  originalRecipient: 'rfc822;team@delegato.example',
  action: 'failed',
  status: '5.1.1',
  remoteMta: 'mx.remote.example',
  diagnostic: '550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown',
  lastAttempt: new Date('2026-03-02T09:29:00Z'),
};

function part(p: Parsed, type: string) {
  const found = p.parts.find((x) => x.contentType === type);
  if (!found) throw new Error(`no ${type} part in ${p.parts.map((x) => x.contentType).join(', ')}`);
  return found;
}

function expectReport(p: Parsed, third: 'message/rfc822' | 'text/rfc822-headers') {
  expect(p.contentType).toBe('multipart/report');
  expect(p.reportType).toBe('delivery-status');
  expect(p.defects).toEqual([]);
  expect(p.parts.map((x) => x.contentType)).toEqual(['text/plain', 'message/delivery-status', third]);
  for (const x of p.parts) expect(x.defects).toEqual([]);
  expect(p.headers.From).toBe('Mail Delivery System <MAILER-DAEMON@mx1.delegato.example>');
  expect(p.headers.To).toBe('alice@sender.example');
  expect(p.headers['Auto-Submitted']).toBe('auto-replied');
  expect(p.headers['MIME-Version']).toBe('1.0');
  expect(p.headers['Message-ID']).toMatch(/^<[^<>@\s]+@mx1\.delegato\.example>$/);
  expect(p.headers.Date).toBe('Mon, 02 Mar 2026 09:30:00 +0000');
}

describe('buildDsn', () => {
  it('failure, RET=FULL, ENVID and ORCPT: the whole original comes back as message/rfc822', async () => {
    const p = await parseWithPython(
      buildDsn(input({ envid: 'QQ314159', ret: 'FULL', recipients: [failed] })),
    );
    expectReport(p, 'message/rfc822');
    expect(p.headers.Subject).toBe('Undelivered Mail Returned to Sender');
    const ds = part(p, 'message/delivery-status');
    expect(ds.perMessage).toEqual({
      'Original-Envelope-Id': 'QQ314159',
      'Reporting-MTA': 'dns; mx1.delegato.example',
      'Arrival-Date': 'Mon, 2 Mar 2026 09:00:05 +0000',
    });
    expect(ds.recipients).toEqual([
      {
        'Original-Recipient': 'rfc822;team@delegato.example',
        'Final-Recipient': 'rfc822;bob@remote.example',
        Action: 'failed',
        Status: '5.1.1',
        'Remote-MTA': 'dns; mx.remote.example',
        'Diagnostic-Code': 'smtp; 550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown',
        'Last-Attempt-Date': 'Mon, 2 Mar 2026 09:29:00 +0000',
      },
    ]);
    const orig = part(p, 'message/rfc822');
    expect(orig.inner?.headers.Subject).toBe('Quarterly figures');
    expect(orig.inner?.headers['Message-ID']).toBe('<q1@sender.example>');
    expect(orig.inner?.bodyText).toBe(lf(ORIGINAL_BODY));
    const text = part(p, 'text/plain').text ?? '';
    expect(text).toContain('could not be delivered');
    expect(text).toContain('<bob@remote.example> (sent to <team@delegato.example>)');
    expect(text).toContain('User unknown');
    expect(text).toContain('Your original message is attached.');
  });

  it('failure, RET=HDRS: only the header block, as text/rfc822-headers', async () => {
    const p = await parseWithPython(
      buildDsn(input({ envid: 'QQ314159', ret: 'HDRS', recipients: [failed] })),
    );
    expectReport(p, 'text/rfc822-headers');
    const headers = part(p, 'text/rfc822-headers');
    expect(headers.text).toBe(lf(ORIGINAL_HEADERS));
    expect(headers.text).not.toContain('Here are the figures');
    expect(part(p, 'text/plain').text).toContain('The headers of your original message are attached.');
  });

  it('failure without RET: the whole message (RFC 3461 §4.3 leaves it to us; see build.ts)', async () => {
    const p = await parseWithPython(buildDsn(input({ recipients: [failed] })));
    expectReport(p, 'message/rfc822');
    expect(part(p, 'message/rfc822').inner?.bodyText).toBe(lf(ORIGINAL_BODY));
  });

  it('no ENVID, no ORCPT: the optional fields are left out', async () => {
    const { originalRecipient: _, ...plain } = failed;
    const p = await parseWithPython(buildDsn(input({ envid: null, ret: 'FULL', recipients: [plain] })));
    const ds = part(p, 'message/delivery-status');
    expect(ds.perMessage).not.toHaveProperty('Original-Envelope-Id');
    expect(ds.perMessage?.['Reporting-MTA']).toBe('dns; mx1.delegato.example');
    expect(ds.recipients?.[0]).not.toHaveProperty('Original-Recipient');
    expect(ds.recipients?.[0]?.['Final-Recipient']).toBe('rfc822;bob@remote.example');
  });

  it('delay: Will-Retry-Until, and headers only even with RET=FULL (RFC 3461 §4.3)', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          ret: 'FULL',
          recipients: [
            {
              finalRecipient: 'carol@slow.example',
              action: 'delayed',
              status: '4.4.1',
              remoteMta: 'mx.slow.example',
              diagnostic: '421 4.4.1 Connection timed out',
              lastAttempt: new Date('2026-03-02T09:29:30Z'),
              willRetryUntil: new Date('2026-03-07T09:00:05Z'),
            },
          ],
        }),
      ),
    );
    expectReport(p, 'text/rfc822-headers');
    expect(p.headers.Subject).toBe('Delayed Mail (still being retried)');
    const r = part(p, 'message/delivery-status').recipients?.[0];
    expect(r).toMatchObject({
      'Final-Recipient': 'rfc822;carol@slow.example',
      Action: 'delayed',
      Status: '4.4.1',
      'Will-Retry-Until': 'Sat, 7 Mar 2026 09:00:05 +0000',
    });
    expect(part(p, 'text/rfc822-headers').text).toContain('Subject: Quarterly figures');
    expect(part(p, 'text/plain').text).toContain('still being retried');
  });

  it('success and relay reports carry the headers only', async () => {
    const delivered = await parseWithPython(
      buildDsn(
        input({
          envid: 'E-1',
          ret: 'FULL',
          recipients: [
            {
              finalRecipient: 'dave@remote.example',
              action: 'delivered',
              status: '2.0.0',
              remoteMta: 'mx.remote.example',
              diagnostic: '250 2.0.0 Ok: queued as 4XYZ',
            },
          ],
        }),
      ),
    );
    expectReport(delivered, 'text/rfc822-headers');
    expect(delivered.headers.Subject).toBe('Successful Mail Delivery Report');
    expect(part(delivered, 'message/delivery-status').recipients?.[0]).toMatchObject({
      Action: 'delivered',
      Status: '2.0.0',
    });

    const relayed = await parseWithPython(
      buildDsn(
        input({
          recipients: [{ finalRecipient: 'erin@legacy.example', action: 'relayed', status: '2.0.0' }],
        }),
      ),
    );
    expectReport(relayed, 'text/rfc822-headers');
    expect(relayed.headers.Subject).toBe('Relayed Mail Report');
    expect(part(relayed, 'message/delivery-status').recipients?.[0]).toMatchObject({
      'Final-Recipient': 'rfc822;erin@legacy.example',
      Action: 'relayed',
    });
  });

  it('an ambiguous alias lists the candidates so the sender can pick one', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          recipients: [
            {
              finalRecipient: 'anna@delegato.example',
              action: 'failed',
              status: '5.1.4',
              diagnostic: '550 5.1.4 Ambiguous address',
              candidates: ['anna.schmidt@delegato.example', 'anna.meier@delegato.example'],
            },
          ],
        }),
      ),
    );
    expectReport(p, 'message/rfc822');
    const text = part(p, 'text/plain').text ?? '';
    expect(text).toContain('matches several people');
    expect(text).toContain('      anna.schmidt@delegato.example\n');
    expect(text).toContain('      anna.meier@delegato.example\n');
    expect(part(p, 'message/delivery-status').recipients?.[0]).toMatchObject({
      'Final-Recipient': 'rfc822;anna@delegato.example',
      Action: 'failed',
      Status: '5.1.4',
    });
  });

  it('several recipients: one block each, in order; a failure among them makes it a bounce', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          envid: 'multi',
          recipients: [
            failed,
            { finalRecipient: 'frank@slow.example', action: 'delayed', status: '4.4.1' },
            {
              finalRecipient: 'gina@remote.example',
              action: 'failed',
              status: '5.2.2',
              diagnostic: '552 full',
            },
          ],
        }),
      ),
    );
    expectReport(p, 'message/rfc822');
    expect(p.headers.Subject).toBe('Undelivered Mail Returned to Sender');
    const rs = part(p, 'message/delivery-status').recipients ?? [];
    expect(rs.map((r) => [r['Final-Recipient'], r.Action, r.Status])).toEqual([
      ['rfc822;bob@remote.example', 'failed', '5.1.1'],
      ['rfc822;frank@slow.example', 'delayed', '4.4.1'],
      ['rfc822;gina@remote.example', 'failed', '5.2.2'],
    ]);
    const text = part(p, 'text/plain').text ?? '';
    expect(text.indexOf('gina@remote.example')).toBeLessThan(text.indexOf('frank@slow.example'));
  });

  it('an 8-bit original is returned byte for byte, labelled 8bit (the DSN needs 8BITMIME)', async () => {
    const eight = Buffer.from(
      'From: José <jose@sender.example>\r\nSubject: Grüße aus Köln\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Transfer-Encoding: 8bit\r\n\r\nÄpfel, Öl, Übermut — 日本語\r\n',
    );
    const dsn = () =>
      buildDsn(input({ ret: 'FULL', recipients: [failed], original: () => Readable.from([eight]) }));
    const raw = await collect(dsn());
    expect(raw.includes(eight)).toBe(true);
    const p = await parseWithPython(dsn());
    expectReport(p, 'message/rfc822');
    expect(p.headers['Content-Transfer-Encoding']).toBe('8bit');
    const orig = part(p, 'message/rfc822');
    expect(orig.cte).toBe('8bit');
    expect(orig.inner?.bodyText).toBe('Äpfel, Öl, Übermut — 日本語\n');
    expect(part(p, 'text/plain').cte).toBe('7bit');
  });

  it('an all-ASCII DSN stays 7-bit', async () => {
    const raw = await collect(buildDsn(input({ recipients: [failed] })));
    expect([...raw].every((b) => b < 0x80)).toBe(true);
    const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString();
    expect(head).not.toContain('Content-Transfer-Encoding');
    expect(raw.toString()).toMatch(/\r\n\r\n--=_dsn_[0-9a-f]{48}--\r\n$/);
    expect(raw.toString().replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('non-ASCII recipients use the RFC 6533 utf-8 address type; the text part goes 8bit', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          recipients: [
            {
              finalRecipient: 'jörg@bücher.example',
              originalRecipient: 'rfc822;jörg+x=y@bücher.example',
              action: 'failed',
              status: '5.1.1',
            },
          ],
        }),
      ),
    );
    expect(p.headers['Content-Transfer-Encoding']).toBe('8bit');
    expect(part(p, 'text/plain').cte).toBe('8bit');
    expect(part(p, 'text/plain').text).toContain('<jörg@bücher.example>');
    expect(part(p, 'message/delivery-status').recipients?.[0]).toMatchObject({
      'Original-Recipient': 'utf-8;j\\x{F6}rg\\x{2B}x\\x{3D}y@b\\x{FC}cher.example',
      'Final-Recipient': 'utf-8;j\\x{F6}rg@b\\x{FC}cher.example',
    });
  });

  it('a bare ORCPT is typed rfc822; another type is kept', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          recipients: [
            { ...failed, originalRecipient: 'Team@Delegato.example' },
            { ...failed, originalRecipient: 'x400;/c=us/o=acme/s=doe' },
          ],
        }),
      ),
    );
    const rs = part(p, 'message/delivery-status').recipients ?? [];
    expect(rs.map((r) => r['Original-Recipient'])).toEqual([
      'rfc822;Team@Delegato.example',
      'x400;/c=us/o=acme/s=doe',
    ]);
  });

  it('no header injection: CR/LF in any input stays inside its field', async () => {
    const p = await parseWithPython(
      buildDsn(
        input({
          sender: 'alice@sender.example\r\nBcc: victim@else.example',
          envid: 'E\r\nX-Injected: 1',
          recipients: [
            {
              ...failed,
              diagnostic:
                '550-5.1.1 first line\r\n550-5.1.1 second line\r\n\r\nFinal-Recipient: rfc822;evil@x\r\n',
            },
          ],
        }),
      ),
    );
    expect(p.headers).not.toHaveProperty('Bcc');
    const ds = part(p, 'message/delivery-status');
    expect(ds.perMessage).not.toHaveProperty('X-Injected');
    expect(ds.recipients).toHaveLength(1);
    expect(ds.recipients?.[0]?.['Diagnostic-Code']).toBe(
      'smtp; 550-5.1.1 first line 550-5.1.1 second line Final-Recipient: rfc822;evil@x',
    );
  });

  it('long diagnostics are folded and unfold to the same text', async () => {
    const long = `550 5.7.1 ${'policy '.repeat(40).trim()}`;
    const raw = (
      await collect(buildDsn(input({ recipients: [{ ...failed, diagnostic: long }] })))
    ).toString();
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    const p = await parseWithPython(buildDsn(input({ recipients: [{ ...failed, diagnostic: long }] })));
    expect(part(p, 'message/delivery-status').recipients?.[0]?.['Diagnostic-Code']).toBe(`smtp; ${long}`);
  });

  it('Message-IDs are unique; a generator may supply them', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const head = (await collect(buildDsn(input({ recipients: [failed] })))).toString();
      ids.add(/^Message-ID: (.*)$/m.exec(head)?.[1] ?? '');
    }
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^<[0-9a-z]+\.[0-9a-f]{24}@mx1\.delegato\.example>\r?$/);
    const custom = (
      await collect(buildDsn(input({ recipients: [failed], messageId: () => 'fixed@x' })))
    ).toString();
    expect(custom).toContain('Message-ID: <fixed@x>\r\n');
  });

  it('refuses the null sender, an empty recipient list and a malformed status', () => {
    expect(() => buildDsn(input({ sender: '', recipients: [failed] }))).toThrow(/null sender/);
    expect(() => buildDsn(input({ sender: '<>', recipients: [failed] }))).toThrow(/null sender/);
    expect(() => buildDsn(input({ recipients: [] }))).toThrow(/no recipients/);
    expect(() => buildDsn(input({ recipients: [{ ...failed, status: '550' }] }))).toThrow(/status/);
    expect(() => buildDsn(input({ recipients: [{ ...failed, status: '3.0.0' }] }))).toThrow(/status/);
  });

  it('an error opening the original surfaces as a stream error', async () => {
    const dsn = buildDsn(
      input({
        recipients: [failed],
        original: () => {
          throw new Error('spool file gone');
        },
      }),
    );
    await expect(collect(dsn)).rejects.toThrow('spool file gone');
  });

  describe('a 3 MiB original', () => {
    const SIZE = 3 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const header = Buffer.from('From: big@sender.example\r\nSubject: Big attachment\r\n\r\n');
    const line = Buffer.from(`${'0123456789abcdef'.repeat(4)}\r\n`);
    const body = Buffer.alloc(SIZE, 0);
    for (let i = 0; i < SIZE; i += line.length) line.copy(body, i);
    body.write('\r\n', SIZE - 2);
    const whole = Buffer.concat([header, body]);

    /** A lazily produced original that records how much of it was read. */
    function source() {
      const stats = { opened: 0, produced: 0 };
      const open = () => {
        stats.opened++;
        stats.produced = 0;
        async function* gen() {
          for (let i = 0; i < whole.length; i += CHUNK) {
            const c = whole.subarray(i, i + CHUNK);
            stats.produced += c.length;
            yield c;
          }
        }
        return Readable.from(gen(), { objectMode: false, highWaterMark: CHUNK });
      };
      return { stats, open };
    }

    it('is streamed through (never held whole) and parses intact', async () => {
      const { stats, open } = source();
      const dsn = buildDsn(input({ ret: 'FULL', recipients: [failed], original: open }));
      let consumed = 0;
      let maxLead = 0;
      const chunks: Buffer[] = [];
      for await (const c of dsn) {
        consumed += (c as Buffer).length;
        chunks.push(c as Buffer);
        if (stats.opened === 2) maxLead = Math.max(maxLead, stats.produced - consumed);
        await new Promise((r) => setImmediate(r));
      }
      expect(stats.opened).toBe(2); // the 8-bit scan, then the copy
      expect(stats.produced).toBe(whole.length);
      expect(maxLead).toBeLessThan(512 * 1024); // measured: about 130 KiB
      const raw = Buffer.concat(chunks);
      expect(raw.indexOf(whole)).toBeGreaterThan(0); // byte for byte
      const bodyLf = Buffer.from(lf(body.toString('latin1')), 'latin1');
      const p = await parseWithPython(Readable.from(chunks));
      expectReport(p, 'message/rfc822');
      const inner = part(p, 'message/rfc822').inner;
      expect(inner?.headers.Subject).toBe('Big attachment');
      expect(inner?.bodyLength).toBe(bodyLf.length);
      expect(inner?.bodySha256).toBe(createHash('sha256').update(bodyLf).digest('hex'));
    });

    it('with a known 8-bit flag it is read once; RET=HDRS reads the header block only', async () => {
      const once = source();
      await collect(
        buildDsn(input({ ret: 'FULL', recipients: [failed], original: once.open, original8bit: false })),
      );
      expect(once.stats.opened).toBe(1);

      const hdrs = source();
      const p = await parseWithPython(
        buildDsn(input({ ret: 'HDRS', recipients: [failed], original: hdrs.open })),
      );
      expectReport(p, 'text/rfc822-headers');
      expect(part(p, 'text/rfc822-headers').text).toBe('From: big@sender.example\nSubject: Big attachment\n');
      expect(hdrs.stats.produced).toBeLessThanOrEqual(2 * CHUNK);
    });
  });
});

describe('originalBytes (the header block cut)', () => {
  /** Reference: everything before the first empty line (LF or CRLF line ends), or everything. */
  function expectedHeaders(m: string): string {
    const lines = m.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    const blank = lines.findIndex((l) => l === '\n' || l === '\r\n');
    return (blank < 0 ? lines : lines.slice(0, blank)).join('');
  }

  async function cut(m: string, size: number, headersOnly = true): Promise<string> {
    const buf = Buffer.from(m, 'latin1');
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
    const out: Buffer[] = [];
    for await (const c of originalBytes(() => Readable.from(chunks), headersOnly)) out.push(c);
    return Buffer.concat(out).toString('latin1');
  }

  it('handles CRLF, bare LF, no body, an empty header block and CR split across chunks', async () => {
    expect(await cut('A: 1\r\nB: 2\r\n\r\nbody\r\n', 1)).toBe('A: 1\r\nB: 2\r\n');
    expect(await cut('A: 1\nB: 2\n\nbody\n', 3)).toBe('A: 1\nB: 2\n');
    expect(await cut('A: 1\r\nB: 2\r\n', 4)).toBe('A: 1\r\nB: 2\r\n');
    expect(await cut('\r\nbody', 1)).toBe('');
    expect(await cut('A: 1\r\n\rX: 2\r\n\r\nb', 7)).toBe('A: 1\r\n\rX: 2\r\n');
    expect(await cut('A: 1\r\n\r', 7)).toBe('A: 1\r\n\r');
    expect(await cut('A: 1\r\n\r\nbody', 5, false)).toBe('A: 1\r\n\r\nbody');
  });

  it('matches the reference for any message and any chunking', async () => {
    const piece = fc.constantFrom('\r', '\n', '\r\n', 'a', ' ', 'X: y', '\xff');
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        async (ps, size) => {
          const m = ps.join('');
          expect(await cut(m, size)).toBe(expectedHeaders(m));
          expect(await cut(m, size, false)).toBe(m);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('shouldSendDsn', () => {
  const actions = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'] as const;

  it('never for the null sender (a DSN never causes a DSN) nor for a DSN', () => {
    for (const action of actions) {
      expect(shouldSendDsn({ sender: '', action })).toBe(false);
      expect(shouldSendDsn({ sender: '<>', action, notify: ['SUCCESS', 'FAILURE', 'DELAY'] })).toBe(false);
      expect(shouldSendDsn({ sender: 'a@b.example', action, notify: ['FAILURE'], isDsn: true })).toBe(false);
    }
  });

  it.each([
    // [notify, failed, delayed, delivered, relayed, expanded]
    ['absent', undefined, true, true, false, false, false],
    ['empty list', [], true, true, false, false, false],
    ['NEVER', ['NEVER'], false, false, false, false, false],
    ['never (any case)', ['never'], false, false, false, false, false],
    ['NEVER wins in an invalid list', ['NEVER', 'FAILURE'], false, false, false, false, false],
    ['FAILURE', ['FAILURE'], true, false, false, false, false],
    ['DELAY', ['DELAY'], false, true, false, false, false],
    ['SUCCESS', ['SUCCESS'], false, false, true, true, true],
    ['SUCCESS,FAILURE', ['SUCCESS', 'FAILURE'], true, false, true, true, true],
    ['FAILURE,DELAY', ['FAILURE', 'DELAY'], true, true, false, false, false],
    ['all three, lower case', ['success', 'failure', 'delay'], true, true, true, true, true],
  ] as const)('NOTIFY %s', (_name, notify, ...expected) => {
    const got = actions.map((action) =>
      shouldSendDsn({ sender: 'alice@sender.example', action, ...(notify ? { notify: [...notify] } : {}) }),
    );
    expect(got).toEqual(expected);
  });
});

describe('statusForReply', () => {
  it.each([
    // a well-formed enhanced code is kept
    [550, '5.1.1', '5.1.1'],
    [250, '2.6.0', '2.6.0'],
    [452, '4.2.2', '4.2.2'],
    [554, ' 5.7.1 ', '5.7.1'],
    [550, '5.1.10', '5.1.10'],
    // the reply code decides the class
    [550, '4.2.2', '5.2.2'],
    [451, '5.3.0', '4.3.0'],
    [250, '5.0.0', '2.0.0'],
    // malformed enhanced codes are ignored
    [550, '5.1', '5.0.0'],
    [550, '3.1.1', '5.0.0'],
    [550, 'x.y.z', '5.0.0'],
    [550, '5.1.1234', '5.0.0'],
  ] as const)('%i with %j → %s', (code, enhanced, status) => {
    expect(statusForReply(code, enhanced)).toBe(status);
  });

  it.each([
    [250, '2.0.0'],
    [251, '2.0.0'],
    [421, '4.3.2'],
    [450, '4.2.0'],
    [451, '4.3.0'],
    [452, '4.3.1'],
    [455, '4.5.4'],
    [454, '4.0.0'],
    [500, '5.5.2'],
    [501, '5.5.4'],
    [502, '5.5.1'],
    [503, '5.5.1'],
    [504, '5.5.4'],
    [521, '5.3.2'],
    [530, '5.7.0'],
    [535, '5.7.8'],
    [550, '5.0.0'],
    [551, '5.1.6'],
    [552, '5.2.2'],
    [553, '5.1.3'],
    [554, '5.0.0'],
    [555, '5.5.4'],
    [556, '5.1.10'],
    [599, '5.0.0'],
    // not a final reply: a protocol error, retried
    [354, '4.5.0'],
    [0, '4.5.0'],
    [199, '4.5.0'],
    [600, '4.5.0'],
    [Number.NaN, '4.5.0'],
  ])('%i without an enhanced code → %s', (code, status) => {
    expect(statusForReply(code)).toBe(status);
  });
});
