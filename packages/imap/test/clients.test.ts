/**
 * Other real clients (`npm test` installs them): Python's imaplib (STARTTLS, LIST, SELECT, SEARCH, FETCH, STORE,
 * COPY, EXPUNGE, STATUS, UID FETCH, implicit TLS, a wrong password) and curl (imap://, STARTTLS, imaps://,
 * SASL PLAIN and LOGIN, a custom LIST, SEARCH in the URL, exit 67 for a wrong password).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ALICE } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, message, startHarness } from './helpers.js';

const run = promisify(execFile);
const FIRST =
  'From: s@example.test\r\nSubject: one\r\nMessage-ID: <one@example.test>\r\n\r\nfirst body\r\n.leading dot\r\n';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.deliver(ALICE, FIRST);
  await h.deliver(ALICE, message('second'));
  await h.deliver(ALICE, message('three'));
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

describe('Python imaplib', () => {
  it('STARTTLS, then the everyday commands; implicit TLS; a wrong password', async () => {
    const script = `
import imaplib, json, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def lit(data):
    return [x for x in data if isinstance(x, tuple)][0][1]
M = imaplib.IMAP4('127.0.0.1', ${h.port})
M.starttls(ssl_context=ctx)
M.login('alice', '${ALICE.password}')
out = {'caps': sorted(M.capabilities), 'boxes': [b.decode() for b in M.list()[1]]}
out['exists'] = int(M.select('INBOX')[1][0])
s = lambda *c: M.search(None, *c)[1][0].decode().split()
out['search'] = [s('ALL'), s('UNSEEN'), s('SUBJECT', '"second"')]
out['rfc822'] = lit(M.fetch('1', '(RFC822)')[1]).decode('latin1')
out['hdr'] = lit(M.fetch('2', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1]).decode()
out['flags'] = [x.decode() for x in M.fetch('1:*', '(FLAGS)')[1]]
out['store'] = M.store('2', '+FLAGS', '\\\\Seen')[0]
out['copy'] = M.copy('1', 'Trash')[0]
M.store('1', '+FLAGS', '\\\\Deleted')
out['expunge'] = [x.decode() for x in M.expunge()[1]]
out['status'] = M.status('INBOX', '(MESSAGES UNSEEN UIDNEXT)')[1][0].decode()
M.select('Trash', readonly=True)
out['uid'] = lit(M.uid('FETCH', '1', '(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')[1]).decode()
out['bye'] = M.logout()[0]
N = imaplib.IMAP4_SSL('127.0.0.1', ${h.tlsPort}, ssl_context=ctx)
try:
    N.login('alice', 'wrong'); out['err'] = None
except imaplib.IMAP4.error as e:
    out['err'] = str(e)
print(json.dumps(out))`;
    const out = JSON.parse((await run('python3', ['-c', script], { timeout: 30_000 })).stdout);
    expect(out.caps).not.toContain('STARTTLS');
    expect(out.boxes).toContain('(\\HasNoChildren \\Sent) "/" "Sent"');
    expect(out.exists).toBe(3);
    expect(out.search).toEqual([['1', '2', '3'], ['1', '2', '3'], ['2']]);
    expect(out.rfc822).toBe(FIRST);
    expect(out.hdr).toBe('Subject: second\r\n\r\n');
    // The SELECT saw them first: \Recent in this session (RFC 3501 §2.3.2).
    expect(out.flags).toEqual([
      '1 (FLAGS (\\Seen \\Recent))',
      '2 (FLAGS (\\Recent))',
      '3 (FLAGS (\\Recent))',
    ]);
    expect([out.store, out.copy]).toEqual(['OK', 'OK']);
    expect(out.expunge).toEqual(['1']);
    expect(out.status).toBe('"INBOX" (MESSAGES 2 UNSEEN 1 UIDNEXT 4)');
    expect(out.uid).toBe('Message-ID: <one@example.test>\r\n\r\n');
    expect(out.bye).toBe('BYE');
    expect(out.err).toMatch(/AUTHENTICATIONFAILED/);
  }, 60_000);
});

describe('curl', () => {
  const curl = async (args: string[]) => {
    try {
      const r = await run(
        'curl',
        ['-s', '-S', '--max-time', '20', '--user', `alice:${ALICE.password}`, ...args],
        {
          encoding: 'buffer',
        },
      );
      return { code: 0, stdout: r.stdout.toString('latin1') };
    } catch (error) {
      return { code: (error as { code?: number }).code ?? -1, stdout: '' };
    }
  };

  it('fetches by UID over every transport and SASL mechanism, byte-exact; LIST; SEARCH', async () => {
    const second = message('second');
    const url = `imap://127.0.0.1:${h.port}/INBOX;UID=2`;
    for (const args of [
      [url],
      ['-k', '--ssl-reqd', url],
      ['-k', `imaps://127.0.0.1:${h.tlsPort}/INBOX;UID=2`],
      ['-k', '--ssl-reqd', '--login-options', 'AUTH=PLAIN', url],
      ['-k', '--ssl-reqd', '--login-options', 'AUTH=LOGIN', url],
    ]) {
      expect(await curl(args), args.join(' ')).toEqual({ code: 0, stdout: second });
    }
    const list = await curl([`imap://127.0.0.1:${h.port}/`, '-X', 'LIST "" "*"']);
    expect(list.stdout).toContain('* LIST (\\HasNoChildren \\Trash) "/" "Trash"\r\n');
    expect((await curl([`imap://127.0.0.1:${h.port}/INBOX?SUBJECT%20second`])).stdout).toMatch(
      /^\* SEARCH \d+\r\n$/,
    );
    const wrong = await run('curl', [
      '-s',
      '-k',
      '--user',
      'alice:wrong',
      `imaps://127.0.0.1:${h.tlsPort}/INBOX;UID=1`,
    ]).catch((e: { code: number }) => e);
    expect((wrong as { code?: number }).code).toBe(67);
  }, 60_000);
});
