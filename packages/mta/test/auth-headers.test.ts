/**
 * The header helpers of message authentication (src/auth/headers.ts): the author domain of From, the
 * authserv-id of an Authentication-Results value, and the stream filter that removes results claiming our
 * authserv-id (RFC 8601 §5) wherever the chunks of the stream happen to split the header.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { authorDomain, authservIdOf, ownResults, StripForgedResults } from '../src/auth/headers.js';

async function strip(message: string, chunk: number): Promise<string> {
  const parts: Buffer[] = [];
  const bytes = Buffer.from(message, 'latin1');
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(new StripForgedResults('mx.example.org')))
    out.push(c as Buffer);
  return Buffer.concat(out).toString('latin1');
}

describe('header helpers', () => {
  it('finds the author domain in the forms From takes', () => {
    expect(authorDomain('From: Rose <Rose@Uni.Example>\r\nTo: x@y\r\n')).toBe('uni.example');
    expect(authorDomain('Subject: s\r\nFrom: rose@uni.example\r\n')).toBe('uni.example');
    expect(authorDomain('From: "A, B" <a@b.example>, c@d.example\r\n')).toBe('b.example');
    expect(authorDomain('From:\r\n Rose\r\n <rose@folded.example>\r\n')).toBe('folded.example');
    expect(authorDomain('To: x@y\r\n')).toBeNull();
  });

  it('reads the authserv-id past comments and quotes', () => {
    expect(authservIdOf(' mx.example.org; spf=pass')).toBe('mx.example.org');
    expect(authservIdOf(' (comment) MX.Example.Org 1; dkim=pass')).toBe('mx.example.org');
    expect(authservIdOf('"mx.example.org"; none')).toBe('mx.example.org');
    expect(
      ownResults(
        'Authentication-Results: mx.example.org;\r\n dkim=pass\r\nAuthentication-Results: other; x\r\n',
        'MX.example.org',
      ),
    ).toEqual(['mx.example.org; dkim=pass']);
  });

  it('removes every forged field of ours, folded or not, in any chunking; keeps the rest byte for byte', async () => {
    const message = [
      'Authentication-Results: mx.example.org; dkim=pass',
      'Received: from a by b',
      'Authentication-Results: (forged) mx.example.org;',
      '\tspf=pass smtp.mailfrom=x@y',
      'authentication-results: other.example; spf=fail',
      'Subject: Authentication-Results: mx.example.org; in a subject',
      '',
      'Authentication-Results: mx.example.org; in the body stays',
      '',
    ].join('\r\n');
    const expected = [
      'Received: from a by b',
      'authentication-results: other.example; spf=fail',
      'Subject: Authentication-Results: mx.example.org; in a subject',
      '',
      'Authentication-Results: mx.example.org; in the body stays',
      '',
    ].join('\r\n');
    for (const chunk of [1, 3, 7, 64, 1 << 16]) expect(await strip(message, chunk)).toBe(expected);
    // A message without a body separator is its header: filtered at the end.
    expect(await strip('Authentication-Results: mx.example.org; x\r\nX: y\r\n', 5)).toBe('X: y\r\n');
  });
});
