import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tempDir } from '@delegato/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  contentDisposition,
  DEFAULT_RULES,
  type DeliveryRequest,
  download,
  GatewayStore,
  gatewayDelivery,
  parseRange,
  type RecipientPolicy,
} from '../src/index.js';
import { MimeScanner } from '../src/mime-scanner.js';
import {
  b64,
  CRLF,
  header,
  mailparserParse,
  pdfBytes,
  pdfMessage,
  pythonParse,
  ROOT,
  sha256,
} from './mime-fixtures.js';

const MiB = 1024 * 1024;

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** The mail store's side of delivery: what each user received. */
function inbox() {
  const received = new Map<string, Buffer>();
  const deliver = async (req: DeliveryRequest) => {
    const body = await bytesOf(req.source);
    const uids = new Map<string, number>();
    for (const u of req.users) {
      received.set(u, body);
      uids.set(u, received.size);
    }
    return { size: body.length, uids };
  };
  return { received, deliver };
}

const registered = (domain: string, rules = DEFAULT_RULES): RecipientPolicy => ({
  domain,
  always: true,
  senders: [],
  rules,
});

let dir: { path: string; remove: () => void };
let store: GatewayStore;
let clock = new Date('2026-12-06T04:00:00Z');

beforeEach(async () => {
  dir = tempDir('gateway-');
  clock = new Date('2026-12-06T04:00:00Z');
  store = await GatewayStore.open({ dir: dir.path, now: () => clock });
});
afterEach(() => {
  store.close();
  dir.remove();
});

function gateway(
  policies: Record<string, RecipientPolicy | null>,
  deliver: ReturnType<typeof inbox>['deliver'],
) {
  return gatewayDelivery(deliver, {
    store,
    policies: { policiesFor: async (ids) => new Map(ids.map((id) => [id, policies[id] ?? null])) },
    baseUrl: 'https://mail.univ.example:8443',
    host: 'mx.univ.example',
    now: () => clock,
  });
}

function tokensIn(message: Buffer): string[] {
  const text = message.toString('latin1');
  const parts = [...text.matchAll(/Content-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)];
  const decoded = parts.map((m) => Buffer.from((m[1] as string).replace(/\r\n/g, ''), 'base64').toString());
  return [
    ...new Set(
      decoded.flatMap((d) => [...d.matchAll(/\/gateway\/([A-Za-z0-9_-]{43})/g)].map((m) => m[1] as string)),
    ),
  ];
}

describe('the MIME splitter', () => {
  it('gives exact offsets and bodies, however the message is cut into chunks', () => {
    const inner = `${header(['From: x@y.example', 'Content-Type: multipart/mixed; boundary="in"'])}--in${CRLF}${header(['Content-Type: image/png', 'Content-Transfer-Encoding: base64'])}${b64(pdfBytes(3000))}${CRLF}--in--`;
    const raw = Buffer.from(
      `${header([...ROOT, 'Content-Type: multipart/mixed; boundary="b"'])}preamble${CRLF}--b${CRLF}` +
        `${header(['Content-Type: message/rfc822'])}${inner}${CRLF}--b${CRLF}` +
        `${header(['Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable'])}a=3D${CRLF}b=${CRLF}${CRLF}` +
        `--b--${CRLF}epilogue${CRLF}`,
      'latin1',
    );
    const shapes: string[] = [];
    for (const size of [1, 2, 3, 7, 100, 4096, raw.length]) {
      const scanner = new MimeScanner();
      const bodies = new Map<unknown, Buffer[]>();
      const seen: string[] = [];
      const events = [];
      for (let i = 0; i < raw.length; i += size) events.push(...scanner.write(raw.subarray(i, i + size)));
      events.push(...scanner.end());
      for (const e of events) {
        if (e.type === 'node') {
          // The header is where the offsets say.
          expect(raw.subarray(e.node.start, e.node.bodyStart).equals(e.node.rawHeader)).toBe(true);
          seen.push(`${e.node.contentType}@${e.node.start}`);
        } else if (e.type === 'body') bodies.set(e.node, [...(bodies.get(e.node) ?? []), e.data]);
        else {
          const body = Buffer.concat(bodies.get(e.node) ?? []);
          expect(body.equals(raw.subarray(e.node.bodyStart, e.bodyEnd)), `${size}-byte chunks`).toBe(true);
          seen.push(`end@${e.bodyEnd}`);
        }
      }
      expect(scanner.malformed).toBeNull();
      shapes.push(seen.join(' '));
    }
    expect(new Set(shapes).size).toBe(1);
    expect(shapes[0]).toMatch(
      /^multipart\/mixed@0 message\/rfc822@\d+ multipart\/mixed@\d+ image\/png@\d+ end@\d+ text\/plain@\d+ end@\d+$/,
    );
  });
});

describe('delivery through the gateway', () => {
  it('replaces a 5 MiB PDF by a link, keeps the text attachment, and serves identical bytes', async () => {
    const pdf = pdfBytes(5 * MiB);
    const { raw, textPart } = pdfMessage(pdf);
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example') },
      deliver,
    )({ users: ['reader'], source: Readable.from([raw]) });
    const out = received.get('reader') as Buffer;
    expect(out.length).toBeLessThan(20_000);
    const text = out.toString('latin1');
    // The text attachment and everything outside the PDF part are byte-identical.
    expect(text).toContain(textPart);
    const pdfStart = raw.indexOf('Content-Type: application/pdf');
    const pdfEnd = raw.indexOf(
      `${CRLF}--outer${CRLF}Content-Type: text/plain; charset=utf-8; name="notes.txt"`,
    );
    const headEnd = raw.indexOf(`${CRLF}${CRLF}`);
    expect(out.subarray(0, headEnd).equals(raw.subarray(0, headEnd))).toBe(true);
    const after = raw.subarray(pdfEnd);
    expect(out.subarray(out.length - after.length).equals(after)).toBe(true);
    const gwHeaderEnd = out.indexOf(`${CRLF}${CRLF}`);
    expect(
      out.subarray(gwHeaderEnd, gwHeaderEnd + (pdfStart - headEnd)).equals(raw.subarray(headEnd, pdfStart)),
    ).toBe(true);
    expect(text).toMatch(
      /^X-Delegato-Gateway: 1 part\(s\) replaced by download links at mx\.univ\.example;/m,
    );
    expect(text).toContain(`sha256=${sha256(pdf)}`);

    const parsed = await mailparserParse(out);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['notes.txt']);
    expect(parsed.html).toContain('/gateway/');
    expect(parsed.text).toContain('scan.pdf');
    const py = pythonParse(dir.path, out);
    expect(py.defects).toEqual([]);
    expect(py.parts.flatMap((p) => p.defects)).toEqual([]);
    expect(py.parts.map((p) => p.type)).toEqual([
      'multipart/mixed',
      'text/plain',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'text/plain',
    ]);

    const [token] = tokensIn(out);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const whole = await download(store, { token: token as string });
    expect(whole.status).toBe(200);
    expect(whole.headers['Content-Type']).toBe('application/pdf');
    expect(whole.headers['Content-Length']).toBe(String(pdf.length));
    expect(whole.headers['Content-Disposition']).toBe(
      `attachment; filename="scan.pdf"; filename*=UTF-8''scan.pdf`,
    );
    expect(sha256(await bytesOf(whole.body as Readable))).toBe(sha256(pdf));
    // Resumed: the first 1 MiB, then the rest by a range request.
    const first = await download(store, { token: token as string, range: `bytes=0-${MiB - 1}` });
    const rest = await download(store, { token: token as string, range: `bytes=${MiB}-` });
    expect(rest.status).toBe(206);
    expect(rest.headers['Content-Range']).toBe(`bytes ${MiB}-${pdf.length - 1}/${pdf.length}`);
    const joined = Buffer.concat([
      await bytesOf(first.body as Readable),
      await bytesOf(rest.body as Readable),
    ]);
    expect(sha256(joined)).toBe(sha256(pdf));
  });

  it('delivers the message untouched to an unregistered recipient, in the same delivery as a registered one', async () => {
    const { raw } = pdfMessage(pdfBytes(3 * MiB));
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example') },
      deliver,
    )({
      users: ['reader', 'other'],
      source: Readable.from([raw]),
    });
    expect((received.get('other') as Buffer).equals(raw)).toBe(true);
    expect((received.get('reader') as Buffer).length).toBeLessThan(raw.length);
    // Nobody registered: straight through.
    const plain = inbox();
    await gateway({}, plain.deliver)({ users: ['other'], source: Readable.from([raw]) });
    expect((plain.received.get('other') as Buffer).equals(raw)).toBe(true);
  });

  it('stores one file for the same content in two domains, and a part under the threshold stays', async () => {
    const pdf = pdfBytes(3 * MiB, 7);
    const { raw } = pdfMessage(pdf);
    const { received, deliver } = inbox();
    const high = { ...DEFAULT_RULES, thresholdBytes: 4 * MiB };
    await gateway(
      { a: registered('a.example'), b: registered('b.example'), c: registered('c.example', high) },
      deliver,
    )({ users: ['a', 'b', 'c'], source: Readable.from([raw]) });
    expect((received.get('c') as Buffer).equals(raw)).toBe(true);
    const files = await store.db.execute('SELECT sha256 FROM files');
    expect(files.rows.map((r) => r.sha256)).toEqual([sha256(pdf)]);
    const usage = await store.usage();
    expect(usage.map((u) => [u.domain, u.files, u.bytes])).toEqual([
      ['a.example', 1, pdf.length],
      ['b.example', 1, pdf.length],
    ]);
  });

  it('handles nested multiparts, message/rfc822, quoted-printable and RFC 2231 non-ASCII names', async () => {
    const img = pdfBytes(3 * MiB, 3);
    const inner =
      header([
        'From: someone@else.example',
        'Subject: forwarded',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="inner"',
      ]) +
      `--inner${CRLF}` +
      header(['Content-Type: text/plain']) +
      `inner text${CRLF}--inner${CRLF}` +
      header([
        'Content-Type: image/jpeg',
        "Content-Disposition: attachment; filename*0*=utf-8''Fotograf%C3%; filename*1*=AD%C3%A1_%E6%9B%B8.jpg",
        'Content-Transfer-Encoding: base64',
      ]) +
      `${b64(img)}${CRLF}--inner--`;
    // A large text attachment in quoted-printable (non-ASCII content, soft line breaks).
    const qpLine = `${'Caf=C3=A9 '.repeat(7)}=${CRLF}`;
    const qpLines = Math.ceil((3 * MiB) / Buffer.byteLength('Café '.repeat(7)));
    const qpBody = qpLine.repeat(qpLines);
    const raw = Buffer.from(
      header([...ROOT, 'Content-Type: multipart/mixed; boundary="outer"']) +
        `--outer${CRLF}` +
        header(['Content-Type: multipart/alternative; boundary="alt"']) +
        `--alt${CRLF}${header(['Content-Type: text/plain'])}plain${CRLF}--alt${CRLF}` +
        `${header(['Content-Type: text/html'])}<p>html</p>${CRLF}--alt--${CRLF}--outer${CRLF}` +
        header(['Content-Type: message/rfc822', 'Content-Disposition: inline']) +
        `${inner}${CRLF}--outer${CRLF}` +
        header([
          'Content-Type: text/plain; charset=utf-8',
          'Content-Disposition: attachment; filename="=?UTF-8?Q?r=C3=A9sum=C3=A9?=.txt"',
          'Content-Transfer-Encoding: quoted-printable',
        ]) +
        `${qpBody}end${CRLF}--outer--${CRLF}`,
      'latin1',
    );
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example') },
      deliver,
    )({ users: ['reader'], source: Readable.from([raw]) });
    const out = received.get('reader') as Buffer;
    expect(out.length).toBeLessThan(40_000);
    const py = pythonParse(dir.path, out);
    expect(py.defects).toEqual([]);
    expect(py.parts.flatMap((p) => p.defects)).toEqual([]);
    expect(py.parts.map((p) => p.type)).toEqual([
      'multipart/mixed',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'message/rfc822',
      'multipart/mixed',
      'text/plain',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'multipart/alternative',
      'text/plain',
      'text/html',
    ]);
    const parsed = await mailparserParse(out);
    expect(parsed.text).toContain('Fotografíá_書.jpg');
    expect(parsed.text).toContain('résumé.txt');
    const links = await store.db.execute('SELECT file_name, media_type FROM links ORDER BY file_name');
    expect(links.rows.map((r) => [r.file_name, r.media_type])).toEqual([
      ['Fotografíá_書.jpg', 'image/jpeg'],
      ['résumé.txt', 'text/plain'],
    ]);
    const qp = await store.db.execute(
      "SELECT f.size FROM files f JOIN links l USING (sha256) WHERE l.media_type = 'text/plain'",
    );
    expect(Number(qp.rows[0]?.size)).toBe(Buffer.byteLength('Café '.repeat(7)) * qpLines + 3);
    const [first] = tokensIn(out);
    const jpg = await download(store, { token: first as string });
    expect(jpg.headers['Content-Type']).toBe('image/jpeg');
    expect(jpg.headers['Content-Disposition']).toBe(
      `attachment; filename="Fotograf____.jpg"; filename*=UTF-8''Fotograf%C3%AD%C3%A1_%E6%9B%B8.jpg`,
    );
    expect(sha256(await bytesOf(jpg.body as Readable))).toBe(sha256(img));
  });

  it('delivers malformed MIME unmodified', async () => {
    const big = b64(pdfBytes(3 * MiB));
    const unclosed = Buffer.from(
      header([...ROOT, 'Content-Type: multipart/mixed; boundary="b"']) +
        `--b${CRLF}${header(['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64'])}${big}${CRLF}`,
      'latin1',
    );
    const noBoundary = Buffer.from(
      header([...ROOT, 'Content-Type: multipart/mixed']) +
        `--b${CRLF}${header(['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64'])}${big}${CRLF}--b--${CRLF}`,
      'latin1',
    );
    const headerOnly = Buffer.from(ROOT.join(CRLF), 'latin1');
    for (const raw of [unclosed, noBoundary, headerOnly]) {
      const { received, deliver } = inbox();
      await gateway(
        { reader: registered('univ.example') },
        deliver,
      )({ users: ['reader'], source: Readable.from([raw]) });
      expect((received.get('reader') as Buffer).equals(raw)).toBe(true);
    }
    expect((await store.db.execute('SELECT COUNT(*) AS n FROM links')).rows[0]?.n).toBe(0);
  });

  it('delivers every truncation of a message unmodified, and copes with a part that has only a header', async () => {
    const { raw } = pdfMessage(pdfBytes(3 * MiB));
    for (const fraction of [0.05, 0.3, 0.6, 0.9, 0.999]) {
      const cut = raw.subarray(0, Math.floor(raw.length * fraction));
      const { received, deliver } = inbox();
      await gateway(
        { reader: registered('univ.example') },
        deliver,
      )({ users: ['reader'], source: Readable.from([cut]) });
      expect((received.get('reader') as Buffer).equals(cut), `cut at ${fraction}`).toBe(true);
    }
    // A last part made of a header only, closed by the parent's boundary.
    const headerOnly = Buffer.from(
      header([...ROOT, 'Content-Type: multipart/mixed; boundary="b"']) +
        `--b${CRLF}${header(['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64'])}` +
        `${b64(pdfBytes(3 * MiB))}${CRLF}--b${CRLF}Content-Type: text/plain${CRLF}--b--${CRLF}`,
      'latin1',
    );
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example') },
      deliver,
    )({ users: ['reader'], source: Readable.from([headerOnly]) });
    const out = received.get('reader') as Buffer;
    if (!out.equals(headerOnly)) {
      // Transformed: then the part after the replaced one is intact and the message parses cleanly.
      expect(
        out.toString('latin1').endsWith(`${CRLF}--b${CRLF}Content-Type: text/plain${CRLF}--b--${CRLF}`),
      ).toBe(true);
      expect(pythonParse(dir.path, out).parts.flatMap((p) => p.defects)).toEqual([]);
    }
  });

  it('replaces a binary part that is one long line, and a part with bare LF line ends', async () => {
    const binary = Buffer.from(pdfBytes(3 * MiB, 9).map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b)));
    const raw = Buffer.concat([
      Buffer.from(
        `${header([...ROOT, 'Content-Type: multipart/mixed; boundary="b"'])}--b${CRLF}` +
          `${header(['Content-Type: application/octet-stream; name="blob.bin"', 'Content-Transfer-Encoding: binary'])}`,
        'latin1',
      ),
      binary,
      Buffer.from(`${CRLF}--b--${CRLF}`, 'latin1'),
    ]);
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example') },
      deliver,
    )({ users: ['reader'], source: Readable.from([raw]) });
    const out = received.get('reader') as Buffer;
    expect(out.length).toBeLessThan(20_000);
    const [token] = tokensIn(out);
    expect(sha256(await bytesOf((await download(store, { token: token as string })).body as Readable))).toBe(
      sha256(binary),
    );

    const lf = Buffer.from(
      pdfMessage(pdfBytes(3 * MiB, 11))
        .raw.toString('latin1')
        .replace(/\r\n/g, '\n'),
      'latin1',
    );
    const second = inbox();
    await gateway(
      { reader: registered('univ.example') },
      second.deliver,
    )({ users: ['reader'], source: Readable.from([lf]) });
    const lfOut = second.received.get('reader') as Buffer;
    expect(lfOut.length).toBeLessThan(20_000);
    expect(lfOut.includes('\r')).toBe(false);
    expect(lfOut.toString('latin1')).toContain('\nShelf 12, box 4.\nReturn by Friday.\n--outer--\n');
  });

  it('applies a sender registration only to mail from that sender', async () => {
    const { raw } = pdfMessage(pdfBytes(3 * MiB));
    const bySender = (senders: string[]): RecipientPolicy => ({
      ...registered('univ.example'),
      always: false,
      senders,
    });
    for (const [senders, replaced] of [
      [['librarian@lib.example'], true],
      [['lib.example'], true],
      [['someone@else.example'], false],
    ] as const) {
      const { received, deliver } = inbox();
      await gateway(
        { reader: bySender([...senders]) },
        deliver,
      )({ users: ['reader'], source: Readable.from([raw]) });
      expect((received.get('reader') as Buffer).equals(raw)).toBe(!replaced);
    }
  });

  it('refuses a message over maxBytes with the too-large code', async () => {
    const { raw } = pdfMessage(pdfBytes(MiB));
    const { deliver } = inbox();
    await expect(
      gateway(
        { reader: registered('univ.example') },
        deliver,
      )({
        users: ['reader'],
        source: Readable.from([raw]),
        maxBytes: 1000,
      }),
    ).rejects.toMatchObject({ code: 'too-large' });
  });
});

describe('downloads and expiry', () => {
  it('parses ranges as RFC 9110 says', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual([0, 99]);
    expect(parseRange('bytes=900-', 1000)).toEqual([900, 999]);
    expect(parseRange('bytes=-100', 1000)).toEqual([900, 999]);
    expect(parseRange('bytes=0-5000', 1000)).toEqual([0, 999]);
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-9', 1000)).toBeNull();
    expect(parseRange('items=0-1', 1000)).toBeNull();
  });

  it('writes RFC 6266 file names', () => {
    expect(contentDisposition('Übersicht "2026".pdf')).toBe(
      `attachment; filename="_bersicht _2026_.pdf"; filename*=UTF-8''%C3%9Cbersicht%20%222026%22.pdf`,
    );
  });

  it('answers 404 for unknown and expired tokens, 416 out of range, and cleans up expired files', async () => {
    const pdf = pdfBytes(3 * MiB);
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example', { ...DEFAULT_RULES, expiryDays: 2 }) },
      deliver,
    )({
      users: ['reader'],
      source: Readable.from([pdfMessage(pdf).raw]),
    });
    const [token] = tokensIn(received.get('reader') as Buffer);
    expect((await download(store, { token: 'A'.repeat(43) })).status).toBe(404);
    expect((await download(store, { token: 'not a token' })).status).toBe(404);
    const past = await download(store, { token: token as string, range: `bytes=${pdf.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['Content-Range']).toBe(`bytes */${pdf.length}`);
    expect(await store.cleanup()).toEqual({ links: 0, files: 0, bytes: 0 });
    clock = new Date(clock.getTime() + 2 * 86_400_000 + 1);
    const expired = await download(store, { token: token as string });
    expect(expired).toMatchObject({ status: 404, text: 'not found' });
    expect(await store.cleanup()).toEqual({ links: 1, files: 1, bytes: pdf.length });
    expect(() => readFileSync(store.filePath(sha256(pdf)))).toThrow(/ENOENT/);
    expect(await store.usage()).toEqual([]);
  });

  it('asks for the mailbox login when the domain requires it, and only the recipients may download', async () => {
    const { received, deliver } = inbox();
    await gateway(
      { reader: registered('univ.example', { ...DEFAULT_RULES, loginRequired: true }) },
      deliver,
    )({
      users: ['reader'],
      source: Readable.from([pdfMessage(pdfBytes(3 * MiB)).raw]),
    });
    const [token] = tokensIn(received.get('reader') as Buffer);
    const logins: Record<string, string> = {
      'reader@univ.example:right': 'reader',
      'other@univ.example:right': 'other',
    };
    const login = async (user: string, pass: string) => logins[`${user}:${pass}`] ?? null;
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    const none = await download(store, { token: token as string }, login);
    expect(none.status).toBe(401);
    expect(none.headers['WWW-Authenticate']).toMatch(/^Basic realm=/);
    for (const who of ['reader@univ.example:wrong', 'other@univ.example:right'])
      expect(
        (await download(store, { token: token as string, authorization: basic(who) }, login)).status,
      ).toBe(401);
    const ok = await download(
      store,
      { token: token as string, authorization: basic('reader@univ.example:right') },
      login,
    );
    expect(ok.status).toBe(200);
    expect((await bytesOf(ok.body as Readable)).length).toBe(3 * MiB);
  });
});
