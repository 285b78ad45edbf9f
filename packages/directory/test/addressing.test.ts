import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AddressingError,
  initialOf,
  nameToken,
  normaliseDomain,
  parseAddress,
  personalLocalParts,
  validateLocalPart,
} from '../src/addressing/index.js';

/** Runs `fn` and returns the AddressingError it throws (failing the test if it throws anything else). */
function addressingError(fn: () => unknown): AddressingError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AddressingError);
    return error as AddressingError;
  }
  throw new Error('expected an AddressingError, but nothing was thrown');
}

describe('nameToken', () => {
  it.each([
    // plain
    ['Mario', 'mario'],
    ['ROSSI', 'rossi'],
    // Italian, German, French, Spanish
    ['Nicolò', 'nicolo'],
    ['Nicolo\u0300', 'nicolo'], // decomposed (NFD) input
    ['Müller', 'muller'],
    ['Straße', 'strasse'],
    ['François', 'francois'],
    ['Hélène', 'helene'],
    ['Núñez', 'nunez'],
    // Polish, Icelandic
    ['Łukasz', 'lukasz'],
    ['Wałęsa', 'walesa'],
    ['Brzęczyszczykiewicz', 'brzeczyszczykiewicz'],
    ['Þórsson', 'thorsson'],
    // Greek, Cyrillic, Chinese
    ['Γιώργος', 'giorgos'],
    ['Παπαδόπουλος', 'papadopoylos'],
    ['Сергей', 'sergey'],
    ['Хрущёв', 'khrushchev'],
    ['王', 'wang'],
    // apostrophes: removed, letters joined
    ["D'Amico", 'damico'],
    ['O’Brien', 'obrien'],
    ['Dell‘Orto', 'dellorto'],
    ['Dʼ Angelo', 'dangelo'],
    // hyphens: kept, collapsed, trimmed
    ['Anne-Marie', 'anne-marie'],
    ['Anne–Marie', 'anne-marie'], // en dash
    ['Anne - Marie', 'anne-marie'],
    ['Jean--Pierre', 'jean-pierre'],
    ['-Anne-Marie-', 'anne-marie'],
    // particles: kept and joined
    ['De Luca', 'deluca'],
    ['van der Berg', 'vanderberg'],
    ['Di  Stefano', 'distefano'],
    // several first names: joined without separator
    ['José María', 'josemaria'],
    ['Gian Luca', 'gianluca'],
    ['Maria\tGrazia', 'mariagrazia'],
    // other punctuation, symbols and emoji are dropped
    ['J.', 'j'],
    ['J.R.', 'jr'],
    ['Ann 😀', 'ann'],
    ['Smith (Jr)', 'smithjr'],
    ['  Rossi  ', 'rossi'],
  ])('%j -> %j', (name, token) => {
    expect(nameToken(name)).toBe(token);
  });

  it.each(['', '   ', "'", '---', '- -', '.', '😀', '\uE000', '()'])(
    '%j reduces to nothing and is refused',
    (name) => {
      const error = addressingError(() => nameToken(name));
      expect(error.code).toBe('empty-name');
      expect(error.message).toMatch(/address override \(--address\)/);
    },
  );
});

describe('initialOf', () => {
  it.each([
    ['mario', 'm'],
    ['anne-marie', 'a'],
    ['j', 'j'],
  ])('%j -> %j', (token, initial) => {
    expect(initialOf(token)).toBe(initial);
  });

  it.each(['', '-a', '.a'])('%j is not a token', (token) => {
    expect(addressingError(() => initialOf(token)).code).toBe('empty-name');
  });
});

/** The examples of docs/addressing.md, in the same order: [first, last, official, aliases]. */
const personalExamples: [string, string, string, string[]][] = [
  ['Mario', 'Rossi', 'mario.rossi', ['m.rossi', 'rossi']],
  ['Nicolò', "D'Amico", 'nicolo.damico', ['n.damico', 'damico']],
  ['Gian Luca', "Dell'Orto", 'gianluca.dellorto', ['g.dellorto', 'dellorto']],
  ['Jürgen', 'Müller', 'jurgen.muller', ['j.muller', 'muller']],
  ['Hans', 'Straße', 'hans.strasse', ['h.strasse', 'strasse']],
  ['François', 'Lefèvre', 'francois.lefevre', ['f.lefevre', 'lefevre']],
  ['José María', 'Núñez', 'josemaria.nunez', ['j.nunez', 'nunez']],
  ['Łukasz', 'Wałęsa', 'lukasz.walesa', ['l.walesa', 'walesa']],
  ['Γιώργος', 'Παπαδόπουλος', 'giorgos.papadopoylos', ['g.papadopoylos', 'papadopoylos']],
  ['Сергей', 'Иванов', 'sergey.ivanov', ['s.ivanov', 'ivanov']],
  ['小明', '王', 'xiaoming.wang', ['x.wang', 'wang']],
  ['Anne-Marie', 'De Luca', 'anne-marie.deluca', ['a.deluca', 'deluca']],
  ['Pieter', 'van der Berg', 'pieter.vanderberg', ['p.vanderberg', 'vanderberg']],
  ['Seán', 'O’Brien', 'sean.obrien', ['s.obrien', 'obrien']],
  ['J.', 'Smith', 'j.smith', ['smith']],
  ['A', 'Bianchi', 'a.bianchi', ['bianchi']],
];

describe('personalLocalParts', () => {
  it.each(personalExamples)('%s %s -> %s, aliases %j', (first, last, official, aliases) => {
    const parts = personalLocalParts(first, last);
    expect(parts).toEqual({ official, aliases });
    expect(parts.aliases).not.toContain(parts.official);
    expect(validateLocalPart(parts.official)).toBe(parts.official);
  });

  it('matches the example table of docs/addressing.md exactly', () => {
    const doc = readFileSync(new URL('../../../docs/addressing.md', import.meta.url), 'utf8');
    const table = doc.split('<!-- examples:start -->')[1]?.split('<!-- examples:end -->')[0] ?? '';
    const rows = table
      .trim()
      .split('\n')
      .slice(2) // header and separator
      .map((line) => {
        const [first = '', last = '', official = '', aliases = ''] = line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim().replaceAll('`', ''));
        return [first, last, official, aliases.split(', ')];
      });
    expect(rows).toEqual(personalExamples);
  });

  it.each([
    ['Mario', ''],
    ['', 'Rossi'],
    ['😀', 'Rossi'],
    ['Mario', "'"],
  ])('%j %j has no usable name and is refused', (first, last) => {
    expect(addressingError(() => personalLocalParts(first, last)).code).toBe('empty-name');
  });

  it.each([
    ['a'.repeat(31), 'b'.repeat(32), true], // 31 + 1 + 32 = 64 octets
    ['a'.repeat(32), 'b'.repeat(32), false], // 65 octets
  ])('a first.last of %s.%s fits in 64 octets: %s', (first, last, fits) => {
    if (fits) {
      expect(personalLocalParts(first, last).official).toHaveLength(64);
    } else {
      const error = addressingError(() => personalLocalParts(first, last));
      expect(error.code).toBe('invalid-local-part');
      expect(error.message).toMatch(/--address/);
    }
  });
});

describe('validateLocalPart', () => {
  it.each([
    ['mario.rossi', 'mario.rossi'],
    ['Mario.Rossi', 'mario.rossi'],
    ['anne-marie.deluca', 'anne-marie.deluca'],
    ['a', 'a'],
    ['user+tag', 'user+tag'],
    ["o'brien", "o'brien"],
    ['first_last', 'first_last'],
    ["#$&'*+/=?^_`{|}~-", "#$&'*+/=?^_`{|}~-"],
    ['x'.repeat(64), 'x'.repeat(64)],
  ])('accepts %j as %j', (local, normalised) => {
    expect(validateLocalPart(local)).toBe(normalised);
  });

  it.each([
    '',
    // open-relay tricks: percent hack, bang path, quoted strings, embedded @
    'a%b',
    'a%b@relay.example',
    'a!b',
    'host!user',
    '"a@b"',
    '"ab"',
    '"a b"',
    'a@b',
    // dots
    'a..b',
    '.a',
    'a.',
    '.',
    // white space and characters outside atext
    'a b',
    ' a',
    'a\t',
    'a,b',
    'a(b)',
    'a<b',
    'a\\b',
    'a;b',
    'a:b',
    'a[b]',
    // non-ASCII (no SMTPUTF8) and too long (RFC 5321 §4.5.3.1.1)
    'nicolò',
    'x'.repeat(65),
  ])('rejects %j', (local) => {
    expect(addressingError(() => validateLocalPart(local)).code).toBe('invalid-local-part');
  });
});

/** A domain of exactly `length` octets (length >= 5), made of labels of at most 63 octets. */
function domainOfLength(length: number): string {
  const labels: string[] = [];
  let remaining = length - 4; // room for '.org'
  while (remaining > 0) {
    const size = Math.min(63, remaining - (remaining > 63 ? 1 : 0)); // keep 1 octet for the next dot
    labels.push('a'.repeat(size));
    remaining -= size + 1;
  }
  return `${labels.join('.')}.org`;
}

describe('normaliseDomain', () => {
  it('builds test domains of the requested length', () => {
    expect(domainOfLength(253)).toHaveLength(253);
    expect(domainOfLength(254)).toHaveLength(254);
    expect(domainOfLength(189)).toHaveLength(189);
  });

  it.each([
    ['example.org', 'example.org'],
    [' Example.ORG ', 'example.org'],
    ['mail.cnr.it', 'mail.cnr.it'],
    ['a-b.example', 'a-b.example'],
    ['0.example', '0.example'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.Example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['пример.рф', 'xn--e1afmkfd.xn--p1ai'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
    [domainOfLength(253), domainOfLength(253)],
  ])('accepts %j as %j', (domain, normalised) => {
    expect(normaliseDomain(domain)).toBe(normalised);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['trailing dot', 'example.org.'],
    ['trailing ideographic full stop', 'example。org。'],
    ['single label', 'localhost'],
    ['single IDN label', 'bücher'],
    ['64-octet label', `${'a'.repeat(64)}.example`],
    ['254 octets', domainOfLength(254)],
    ['leading hyphen', '-a.example'],
    ['trailing hyphen', 'a-.example'],
    ['double dot', 'a..example'],
    ['leading dot', '.example.org'],
    ['underscore', 'a_b.example'],
    ['percent-encoding', 'ex%61mple.org'],
    ['IPv4 address', '192.0.2.1'],
    ['all-numeric top-level label', 'example.123'],
    ['address literal', '[192.0.2.1]'],
    ['inner space', 'exa mple.org'],
    ['an address', 'user@example.org'],
    ['a port', 'example.org:25'],
    ['invalid punycode', 'xn--zz.example'],
  ])('rejects %s: %j', (_case, domain) => {
    expect(addressingError(() => normaliseDomain(domain)).code).toBe('invalid-domain');
  });
});

describe('parseAddress', () => {
  it.each([
    ['mario.rossi@example.org', 'mario.rossi', 'example.org'],
    ['Mario.Rossi@Example.ORG', 'mario.rossi', 'example.org'],
    ['user+tag@mail.cnr.it', 'user+tag', 'mail.cnr.it'],
    ['a@bücher.example', 'a', 'xn--bcher-kva.example'],
    [`${'x'.repeat(64)}@${domainOfLength(189)}`, 'x'.repeat(64), domainOfLength(189)], // 254 octets
  ])('parses %j', (input, local, domain) => {
    expect(parseAddress(input)).toEqual({ local, domain, address: `${local}@${domain}` });
  });

  it.each([
    ['source route', '@a.example:user@example.org'],
    ['source route with several hops', '@a.example,@b.example:user@example.org'],
    ['address literal', 'user@[192.0.2.1]'],
    ['IPv6 address literal', 'user@[IPv6:2001:db8::1]'],
    ['IPv4 domain', 'user@192.0.2.1'],
    ['trailing dot', 'user@example.org.'],
    ['angle brackets', '<user@example.org>'],
    ['display name', 'Mario <mario@example.org>'],
    ['inner space', 'user @example.org'],
    ['leading space', ' user@example.org'],
    ['trailing space', 'user@example.org '],
    ['tab', 'user\t@example.org'],
    ['no @', 'userexample.org'],
    ['two @', 'a@b@example.org'],
    ['empty local part', '@example.org'],
    ['empty domain', 'user@'],
    ['percent hack', 'a%b@example.org'],
    ['bang path', 'b!a@example.org'],
    ['quoted local part', '"a b"@example.org'],
    ['quoted local part without space', '"ab"@example.org'],
    ['double dot', 'a..b@example.org'],
    ['leading dot', '.a@example.org'],
    ['trailing dot in local part', 'a.@example.org'],
    ['single-label domain', 'user@localhost'],
    ['65-octet local part', `${'x'.repeat(65)}@example.org`],
    ['255 octets', `${'x'.repeat(64)}@${domainOfLength(190)}`],
  ])('rejects %s: %j', (_case, input) => {
    expect(addressingError(() => parseAddress(input)).code).toBe('invalid-address');
  });

  it.each([
    ['a%b@example.org', 'invalid-local-part'],
    ['user@example.org.', 'invalid-domain'],
  ])('keeps the reason for %j as the cause (%s)', (input, causeCode) => {
    const error = addressingError(() => parseAddress(input));
    expect(error.cause).toBeInstanceOf(AddressingError);
    expect((error.cause as AddressingError).code).toBe(causeCode);
  });
});
