/**
 * The MIME layer on a corpus of tricky messages: BODYSTRUCTURE, BODY, ENVELOPE (exact strings, and parsed
 * back by imapflow's independent response parser), body sections, and the decoding SEARCH relies on.
 */
import { parser } from 'imapflow/lib/handler/imap-handler.js';
import { parseBodystructure, parseEnvelope } from 'imapflow/lib/tools.js';
import { describe, expect, it } from 'vitest';
import { parseSection } from '../src/fetch/items.js';
import { sectionBytes } from '../src/fetch/section.js';
import { bodyStructure } from '../src/mime/bodystructure.js';
import { CACHE_ENTRY_OVERHEAD, MessageCache } from '../src/mime/cache.js';
import {
  decodeBase64,
  decodeCharset,
  decodeEncodedWords,
  decodeHeaderValue,
  decodeQuotedPrintable,
} from '../src/mime/decode.js';
import { envelopeOf, envelopeWire } from '../src/mime/envelope.js';
import { parseStructured } from '../src/mime/params.js';
import { parseMime } from '../src/mime/parser.js';
import { toBuffer } from '../src/wire.js';
import { ADDRESSES, BARE_8BIT, DIGEST, FORWARD, NESTED } from './corpus.js';

const raw = (text: string) => Buffer.from(text, 'latin1');
const bs = (text: string, ext = true) => {
  const r = raw(text);
  return toBuffer(bodyStructure(r, parseMime(r), ext)).toString('latin1');
};
const env = (text: string) => {
  const r = raw(text);
  return toBuffer(envelopeWire(envelopeOf(r, parseMime(r)))).toString('latin1');
};
const section = (text: string, spec: string) => {
  const r = raw(text);
  return sectionBytes(r, parseMime(r), parseSection(spec))?.toString('latin1') ?? null;
};

/** Parses a FETCH response the way imapflow (a real client) does. */
async function clientView(item: 'BODYSTRUCTURE' | 'ENVELOPE', wire: string) {
  const response = await parser(Buffer.from(`* 1 FETCH (${item} ${wire})`, 'latin1'));
  const attrs = response.attributes as unknown as [unknown, unknown[]];
  const list = attrs[1] as unknown[];
  const value = list[1] as never;
  return item === 'BODYSTRUCTURE' ? parseBodystructure(value) : parseEnvelope(value);
}

describe('BODYSTRUCTURE and BODY (RFC 9051 §7.5.2)', () => {
  it('nested multipart/mixed > multipart/alternative, base64 and quoted-printable, RFC 2231 parameters', () => {
    expect(bs(NESTED)).toBe(
      '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 37 2 NIL NIL NIL NIL)' +
        '("text" "html" ("charset" "utf-8") NIL NIL "base64" 40 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)' +
        '("application" "pdf" ("name*" "utf-8\'\'%E2%82%AC%20rate.pdf") "<pdf1@example.test>" "The rate" "base64" 12 NIL ' +
        '("attachment" ("filename" "rate.pdf")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)',
    );
    expect(bs(NESTED, false)).toBe(
      '((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 37 2)("text" "html" ("charset" "utf-8") NIL NIL "base64" 40 1) "alternative")' +
        '("application" "pdf" ("name*" "utf-8\'\'%E2%82%AC%20rate.pdf") "<pdf1@example.test>" "The rate" "base64" 12) "mixed")',
    );
  });

  it('message/rfc822 with its own multipart: envelope, structure and lines of the encapsulated message', () => {
    expect(bs(FORWARD)).toBe(
      '(("text" "plain" NIL NIL NIL "7BIT" 13 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7BIT" 283 ' +
        '("Wed, 2 Mar 2022 08:00:00 +0000" "report" (("Carol" NIL "carol" "example.test")) (("Carol" NIL "carol" "example.test")) ' +
        '(("Carol" NIL "carol" "example.test")) ((NIL NIL "bob" "example.test")) NIL NIL NIL NIL) ' +
        '(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7BIT" 14 1 NIL NIL NIL NIL) ' +
        '"alternative" ("boundary" "b2") NIL NIL NIL) 15 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL)',
    );
  });

  it('a message without MIME headers is text/plain; charset=us-ascii (RFC 2045 §5.2); LF line ends', () => {
    expect(bs(BARE_8BIT)).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 32 2 NIL NIL NIL NIL)');
  });

  it('multipart/digest parts default to message/rfc822; a missing close delimiter ends at the end', () => {
    expect(bs(DIGEST, false)).toBe(
      '(("message" "rfc822" NIL NIL NIL "7BIT" 21 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 5 1) 3)' +
        '("message" "rfc822" NIL NIL NIL "7BIT" 24 (NIL "two" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 8 1) 3) "digest")',
    );
  });

  it('is read back by a real client parser', async () => {
    const nested = (await clientView('BODYSTRUCTURE', bs(NESTED))) as {
      type: string;
      childNodes: Array<{
        type: string;
        childNodes?: Array<{ type: string; encoding: string; size: number }>;
        dispositionParameters?: Record<string, string>;
        parameters?: Record<string, string>;
        id?: string;
      }>;
    };
    expect(nested.type).toBe('multipart/mixed');
    expect(nested.childNodes[0]?.type).toBe('multipart/alternative');
    expect(nested.childNodes[0]?.childNodes?.map((c) => [c.type, c.encoding, c.size])).toEqual([
      ['text/plain', 'quoted-printable', 37],
      ['text/html', 'base64', 40],
    ]);
    expect(nested.childNodes[1]?.type).toBe('application/pdf');
    expect(nested.childNodes[1]?.parameters?.name).toBe('€ rate.pdf');
    expect(nested.childNodes[1]?.dispositionParameters?.filename).toBe('rate.pdf');
    expect(nested.childNodes[1]?.id).toBe('<pdf1@example.test>');
    const fwd = (await clientView('BODYSTRUCTURE', bs(FORWARD))) as {
      childNodes: Array<{
        type: string;
        envelope?: { subject: string };
        childNodes?: Array<{ type: string }>;
      }>;
    };
    expect(fwd.childNodes[1]?.type).toBe('message/rfc822');
    expect(fwd.childNodes[1]?.envelope?.subject).toBe('report');
    expect(fwd.childNodes[1]?.childNodes?.[0]?.type).toBe('multipart/alternative');
  });

  it('survives hostile structure: deep nesting, empty parts, boundaries in the preamble, no body', () => {
    let deep = 'Content-Type: text/plain\r\n\r\nleaf\r\n';
    for (let i = 0; i < 200; i++)
      deep = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${deep}--b${i}--\r\n`;
    expect(bs(deep)).toMatch(/^\(/);
    for (const m of [
      '',
      'Subject: only a header',
      'Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n',
      'Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x\r\n--x--',
      'Content-Type: multipart/mixed\r\n\r\nno boundary',
      'Content-Type: message/rfc822\r\n\r\n',
      'Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==\r\n',
      'Content-Type: ;;;==\r\n\r\nbroken',
      'Content-Type: text/plain; name*0*=x; name*0*=y; name*99="z"\r\n\r\n',
    ]) {
      const out = bs(m);
      expect(out, JSON.stringify(m)).toMatch(/^\(.*\)$/s);
    }
  });
});

describe('cost', () => {
  it('parses large, deep and wide messages quickly', () => {
    const started = Date.now();
    let deep = `Content-Type: text/plain\r\n\r\n${'line of text\r\n'.repeat(200_000)}`;
    for (let i = 0; i < 60; i++)
      deep = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${deep}\r\n--b${i}--\r\n`;
    expect(bs(deep)).toMatch(/ 200000 NIL NIL NIL NIL\)/);
    let wide = 'Content-Type: multipart/mixed; boundary=w\r\n\r\n';
    for (let i = 0; i < 20_000; i++) wide += `--w\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    expect(parseMime(raw(`${wide}--w--\r\n`)).children).toHaveLength(20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('ENVELOPE (RFC 9051 §7.5.2)', () => {
  it('returns raw header values: encoded words kept, addresses split into name/adl/mailbox/host', () => {
    expect(env(NESTED)).toBe(
      '("Tue, 1 Mar 2022 10:00:00 +0100" "=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?Q?K=C3=B6ln?=" ' +
        '(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.test")) (("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.test")) ' +
        '(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.test")) (("Smith, John" NIL "john" "example.test")("Jane Doe" NIL "jane" "example.test")) ' +
        '((NIL NIL "Undisclosed recipients" NIL)(NIL NIL NIL NIL)) NIL NIL "<nested@example.test>")',
    );
  });

  it('groups, source routes, missing hosts, comments, folded values', () => {
    expect(env(ADDRESSES)).toBe(
      '(NIL "folded  subject" (("Joe Q. Public" "@relay.example,@other.example" "joe" "example.test")) ' +
        '((NIL NIL "root" ".MISSING-HOST-NAME.")) ((NIL NIL "Team" NIL)(NIL NIL "a" "example.test")("B" NIL "b" "example.test")(NIL NIL NIL NIL)(NIL NIL "c" "example.test")) ' +
        '(("comment only" NIL "quoted local" "example.test")) NIL NIL NIL NIL)',
    );
  });

  it('8-bit header bytes go out as a literal, unchanged', () => {
    expect(env(BARE_8BIT)).toContain('{5}\r\ncaf\xc3\xa9 ');
  });

  it('is read back by a real client parser, which decodes the encoded words', async () => {
    const e = (await clientView('ENVELOPE', env(NESTED))) as {
      subject: string;
      from: Array<{ name: string; address: string }>;
      to: Array<{ name: string; address: string }>;
    };
    expect(e.subject).toBe('Grüße aus Köln');
    expect(e.from).toEqual([{ name: 'Jörg Müller', address: 'joerg@example.test' }]);
    expect(e.to.map((a) => a.address)).toEqual(['john@example.test', 'jane@example.test']);
  });
});

describe('body sections (RFC 9051 §6.4.5)', () => {
  it('HEADER, TEXT, HEADER.FIELDS, HEADER.FIELDS.NOT, MIME and part numbers', () => {
    expect(section(FORWARD, 'HEADER')).toBe(
      'From: bob@example.test\r\nTo: alice@example.test\r\nSubject: Fwd: report\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n',
    );
    expect(section(FORWARD, 'HEADER.FIELDS (subject TO)')).toBe(
      'To: alice@example.test\r\nSubject: Fwd: report\r\n\r\n',
    );
    expect(section(FORWARD, 'HEADER.FIELDS.NOT (Content-Type From To)')).toBe('Subject: Fwd: report\r\n\r\n');
    expect(section(FORWARD, 'HEADER.FIELDS (X-Nothing)')).toBe('\r\n');
    expect(section(FORWARD, '1')).toBe('See attached.');
    expect(section(FORWARD, '1.MIME')).toBe('Content-Type: text/plain\r\n\r\n');
    expect(section(FORWARD, '2.MIME')).toBe(
      'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n',
    );
    expect(section(FORWARD, '2')).toMatch(/^From: Carol <carol@example.test>\r\n[\s\S]*--b2--\r\n$/);
    expect(section(FORWARD, '2.HEADER.FIELDS (Subject)')).toBe('Subject: report\r\n\r\n');
    expect(section(FORWARD, '2.TEXT')).toMatch(/^--b2\r\n[\s\S]*--b2--\r\n$/);
    expect(section(FORWARD, '2.1')).toBe('numbers');
    expect(section(FORWARD, '2.2')).toBe('<b>numbers</b>');
    expect(section(FORWARD, '2.2.MIME')).toBe('Content-Type: text/html\r\n\r\n');
    expect(section(NESTED, '1.1')).toBe('Gr=C3=BC=C3=9Fe, sch=C3=B6ne Welt=\r\n!');
    expect(section(NESTED, '2')).toBe('JVBERi0xLjQK');
    expect(section(NESTED, 'TEXT')).toMatch(
      /^This is the preamble\.\r\n--outer\r\n[\s\S]*--outer--\r\nEpilogue\.\r\n$/,
    );
    // A single-part message: part 1 is its body.
    expect(section(BARE_8BIT, '1')).toBe('K\xc3\xb6ln und M\xc3\xbcnchen\nzweite Zeile\n');
    expect(section(BARE_8BIT, '')).toBe(BARE_8BIT);
  });

  it('is null for parts that do not exist, and for HEADER of a part that is not a message', () => {
    expect(section(FORWARD, '3')).toBeNull();
    expect(section(FORWARD, '1.1.1')).toBeNull();
    expect(section(FORWARD, '1.HEADER')).toBeNull();
    expect(section(BARE_8BIT, '2')).toBeNull();
  });

  it('parses section specifications strictly', () => {
    expect(parseSection('1.2.HEADER.FIELDS ("From" To)')).toEqual({
      part: [1, 2],
      text: 'HEADER.FIELDS',
      fields: ['From', 'To'],
    });
    expect(parseSection('')).toEqual({ part: [], text: '', fields: [] });
    for (const bad of [
      '0',
      '1.',
      'MIME',
      'HEADER.FIELDS',
      'HEADER.FIELDS ()',
      'TEXT (x)',
      'FOO',
      '1.0.TEXT',
      'HEADER.FIELDS (a:b)',
    ]) {
      expect(() => parseSection(bad), bad).toThrow();
    }
  });
});

describe('decoding for SEARCH', () => {
  it('decodes encoded words (RFC 2047), joining adjacent ones and dropping the space between them', () => {
    expect(decodeEncodedWords('=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?Q?K=C3=B6ln?=')).toBe('Grüße aus Köln');
    expect(decodeEncodedWords('=?UTF-8?B?SsO2cmcg?= =?UTF-8?B?TcO8bGxlcg==?=')).toBe('Jörg Müller');
    expect(decodeEncodedWords('=?utf-8?q?a_b?=')).toBe('a b');
    // A multi-byte character split across two words.
    expect(decodeEncodedWords('=?UTF-8?B?w6==?= =?UTF-8?B?pA==?=')).toMatch(/^.+$/);
    expect(decodeEncodedWords('=?UTF-8*en?Q?x?=')).toBe('x');
    expect(decodeEncodedWords('=?unknown-charset?Q?abc?=')).toBe('abc');
    expect(decodeHeaderValue(raw('caf\xc3\xa9\r\n au lait'))).toBe('café au lait');
  });

  it('decodes quoted-printable, base64 and charsets', () => {
    expect(decodeQuotedPrintable(raw('a=3Db=\r\nc=ZZ')).toString()).toBe('a=bc=ZZ');
    expect(decodeBase64(raw('aGVs\r\nbG8=')).toString()).toBe('hello');
    expect(decodeCharset(raw('\xe4'), 'iso-8859-1')).toBe('ä');
    expect(decodeCharset(raw('\x82\xa0'), 'shift_jis')).toBe('あ');
    expect(decodeCharset(raw('\xc3\xa4'), null)).toBe('ä');
  });

  it('parses structured parameters with comments and RFC 2231', () => {
    const p = parseStructured('text/plain (comment); charset="utf-8" (c2); format=flowed');
    expect(p.value).toBe('text/plain');
    expect(p.params.map((x) => [x.key, x.value])).toEqual([
      ['charset', 'utf-8'],
      ['format', 'flowed'],
    ]);
    const q = parseStructured("attachment; filename*=iso-8859-1'de'F%FCr.txt");
    expect(q.params[0]).toMatchObject({
      wireName: 'filename*',
      wireValue: "iso-8859-1'de'F%FCr.txt",
      value: 'Für.txt',
    });
  });
});

describe('message cache', () => {
  it('keeps at most its byte budget, least recently used out first', async () => {
    // Room for two 20-octet entries, not three (each costs its bytes plus the fixed overhead).
    const cache = new MessageCache(2 * (20 + CACHE_ENTRY_OVERHEAD) + 10);
    let loads = 0;
    const load = (n: number) => async () => {
      loads++;
      return Buffer.alloc(n);
    };
    await cache.get('a', load(20));
    await cache.get('b', load(20));
    await cache.get('a', load(20));
    expect(loads).toBe(2);
    expect(cache.size).toEqual({ entries: 2, bytes: 2 * (20 + CACHE_ENTRY_OVERHEAD) });
    await cache.get('c', load(20)); // evicts b, the least recently used
    expect(cache.size.entries).toBe(2);
    await cache.get('a', load(20));
    expect(loads).toBe(3);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('c')?.raw.length).toBe(20);
    await cache.get('huge', load(100_000));
    expect(cache.peek('huge')).toBeUndefined();
    expect(cache.size.bytes).toBeLessThanOrEqual(2 * (20 + CACHE_ENTRY_OVERHEAD) + 10);
    const [x, y] = await Promise.all([cache.get('same', load(1)), cache.get('same', load(1))]);
    expect(x).toBe(y);
  });

  it('counts real bytes: a 64 MiB budget holds 10,000 messages of 5 KiB', async () => {
    const cache = new MessageCache(64 * 1024 * 1024);
    for (let i = 0; i < 10_000; i++) await cache.get(`m${i}`, async () => Buffer.alloc(5 * 1024));
    expect(cache.size.entries).toBe(10_000);
    expect(cache.size.bytes).toBe(10_000 * (5 * 1024 + CACHE_ENTRY_OVERHEAD));
  });
});
