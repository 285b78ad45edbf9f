/**
 * The shared RFC 5322 §3.4 address-list parser: the strict reading (RFC 5322 Appendix A examples and the
 * forms clients write), what is not strict and why, and the lenient reading IMAP's ENVELOPE falls back on.
 */
import { describe, expect, it } from 'vitest';
import { decodeDisplayName, mailboxAddress, mailboxesOf, parseAddressList } from '../src/index.js';

const strict = (v: string) => {
  const r = parseAddressList(v);
  expect(r.problem).toBeNull();
  return r;
};

describe('strict RFC 5322 address lists', () => {
  it('reads the RFC 5322 Appendix A.1 examples', () => {
    const a1 = strict('John Doe <jdoe@machine.example>');
    expect(a1.addresses).toEqual([
      { kind: 'mailbox', name: 'John Doe', route: null, localPart: 'jdoe', domain: 'machine.example' },
    ]);
    const a12 = strict('"Joe Q. Public" <john.q.public@example.com>');
    expect(a12.addresses[0]).toMatchObject({ name: 'Joe Q. Public', localPart: 'john.q.public' });
    const list = strict('Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>');
    expect(mailboxesOf(list.addresses).map(mailboxAddress)).toEqual([
      'mary@x.test',
      'jdoe@example.org',
      'one@y.test',
    ]);
    const group = strict('A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;');
    expect(group.addresses).toHaveLength(1);
    expect(group.addresses[0]).toMatchObject({ kind: 'group', name: 'A Group' });
    expect(mailboxesOf(group.addresses)).toHaveLength(3);
    expect(strict('Undisclosed recipients:;').addresses).toEqual([
      { kind: 'group', name: 'Undisclosed recipients', members: [] },
    ]);
  });

  it('folding, comments (kept, and a comment names a mailbox without display name), quoted local parts', () => {
    const r = strict('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>');
    expect(r.addresses[0]).toMatchObject({ name: 'Pete', localPart: 'pete', domain: 'silly.test' });
    expect(r.comments).toEqual(['A nice ) chap', 'his account', 'his host']);
    expect(strict('jane@example.test (Jane Doe)').addresses[0]).toMatchObject({ name: 'Jane Doe' });
    expect(strict('"quoted local"@example.test').addresses[0]).toMatchObject({ localPart: 'quoted local' });
    expect(strict('Rose\r\n <rose@iat.example>').addresses[0]).toMatchObject({ name: 'Rose' });
    expect(strict('a@[192.0.2.1]').addresses[0]).toMatchObject({ domain: '[192.0.2.1]' });
    expect(strict('Joe Q. Public <joe@x.test>').addresses[0]).toMatchObject({ name: 'Joe Q. Public' });
  });

  it.each([
    ['postmaster@b.example <alice@a.example>', 'an address followed by an angle address'],
    ['<alice@a.example> postmaster@b.example', 'text after the angle address'],
    ['<@relay.test:joe@x.test>', 'route address (obsolete)'],
    ['a@x.test,,b@x.test', 'null list element (obsolete)'],
    ['joe . q@x.test', 'white space in the local part (obsolete)'],
    ['"unterminated <a@x.test>', 'unterminated quote'],
    ['(unterminated a@x.test', 'unterminated comment'],
    ['root', 'no domain'],
    ['', 'empty'],
    ['a@x.test\r\nFrom: b@y.test', 'a line break without folding'],
    ['a\u0000b@x.test', 'a control character'],
    ['=?utf-8?q?a=40b?=@x.test', 'encoded word in the local part'],
    ['G: H: a@x.test;;', 'nested group'],
    ['.a@x.test', 'local part starting with a dot'],
    ['a@x..test', 'empty domain label'],
  ])('%j is not strict (%s) and still gets a reading', (value) => {
    const r = parseAddressList(value);
    expect(r.problem).not.toBeNull();
    expect(Array.isArray(r.addresses)).toBe(true);
  });
});

describe('lenient reading (ENVELOPE of values that are not strict)', () => {
  it('routes, missing domains, null elements', () => {
    expect(parseAddressList('"Joe" <@relay.test,@other.test:joe@x.test>').addresses[0]).toMatchObject({
      name: 'Joe',
      route: '@relay.test,@other.test',
      localPart: 'joe',
      domain: 'x.test',
    });
    expect(parseAddressList('root').addresses[0]).toMatchObject({ localPart: 'root', domain: null });
    expect(mailboxesOf(parseAddressList('a@x.test,,b@x.test').addresses).map(mailboxAddress)).toEqual([
      'a@x.test',
      'b@x.test',
    ]);
  });
});

describe('decodeDisplayName', () => {
  it('decodes encoded words (also inside quotes), joins adjacent ones, reads 8-bit bytes as UTF-8', () => {
    expect(decodeDisplayName('=?UTF-8?Q?Ros=C3=A9_P.?=')).toBe('Rosé P.');
    expect(decodeDisplayName('=?utf-8?b?cG9zdG1hc3RlckBiLmV4YW1wbGU=?=')).toBe('postmaster@b.example');
    expect(decodeDisplayName('=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=')).toBe('ab');
    expect(decodeDisplayName(Buffer.from('K\u00f6ln', 'utf8').toString('latin1'))).toBe('Köln');
    expect(decodeDisplayName('=?x-unknown?q?a?=')).toBeNull();
  });
});
