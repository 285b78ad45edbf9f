/**
 * The one RFC 5322 §3.4 address-list parser of the appliance: submission's sender check (which From and
 * Sender addresses a user may use) and IMAP's ENVELOPE (which addresses clients display) both read header
 * values through `parseAddressList`, so what the check approved is what a client is shown.
 *
 * The grammar is strict: address-list, mailbox, name-addr, angle-addr, group, addr-spec, dot-atom,
 * quoted-string, domain-literal, comments and folding white space of RFC 5322 §3.2–3.4, with 8-bit bytes
 * allowed where RFC 6532 §3.2 allows UTF-8 (atext, qtext, ctext, dtext). Of the obsolete syntax (§4) only
 * obs-phrase (a `.` in an unquoted display name, `Joe Q. Public`) is accepted: route addresses, null list
 * elements, white space around the dots of a local part, control characters and unterminated quotes or
 * comments make the value not strict (`problem` says why). Encoded words (RFC 2047) are never allowed in
 * an addr-spec (RFC 2047 §5 (3)).
 *
 * A value that is not strict is still given a reading (`addresses`), leniently, as UW-IMAP and Dovecot do
 * for ENVELOPE: groups, routes, comments as names, missing domains. Decisions (the sender check) must
 * refuse any value whose `problem` is not null.
 *
 * Values are JS strings of header bytes read as latin1, so 8-bit bytes come back unchanged; names keep
 * their encoded words (ENVELOPE returns raw values; `decodeDisplayName` decodes them).
 */

/** One mailbox: `name <local@domain>`, `local@domain (comment)`, or (lenient reading only) `local`. */
export interface MailboxAddress {
  kind: 'mailbox';
  /** The display name (words joined by one space, quoted strings unquoted) or, without one, a comment. */
  name: string | null;
  /** obs-route (`@a,@b`), lenient reading only. */
  route: string | null;
  /** The local part, quoted strings unquoted. */
  localPart: string;
  /** The domain; null when missing (lenient reading only). */
  domain: string | null;
}

export interface GroupAddress {
  kind: 'group';
  name: string;
  members: MailboxAddress[];
}

export type ParsedAddress = MailboxAddress | GroupAddress;

export interface AddressList {
  addresses: ParsedAddress[];
  /** Null when the value is a strict RFC 5322 §3.4 address-list; else what is wrong with it. */
  problem: string | null;
  /** The text of every comment in the value (strict reading). */
  comments: string[];
}

/** `local@domain` of a mailbox (the local part as unquoted; callers compare it case-insensitively). */
export function mailboxAddress(m: MailboxAddress): string {
  return m.domain === null ? m.localPart : `${m.localPart}@${m.domain}`;
}

/** Every mailbox of a list, group members included. */
export function mailboxesOf(list: readonly ParsedAddress[]): MailboxAddress[] {
  return list.flatMap((a) => (a.kind === 'group' ? a.members : [a]));
}

/** Parses an address-list header value (unfolded or folded, latin1). Never throws. */
export function parseAddressList(value: string): AddressList {
  const strict = new StrictParser(value);
  try {
    const addresses = strict.addressList();
    return { addresses, problem: null, comments: strict.comments };
  } catch (err) {
    if (!(err instanceof NotStrict)) throw err;
    return { addresses: lenientAddressList(value), problem: err.message, comments: strict.comments };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Strict reading (RFC 5322 §3.2–3.4, RFC 6532 §3.2).

class NotStrict extends Error {}

/** atext (RFC 5322 §3.2.3) plus 8-bit bytes (RFC 6532 §3.2). */
function isAtext(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(c)) ||
    c >= 0x80
  );
}

/** qtext (§3.2.4): printable US-ASCII but `"` and `\`, plus 8-bit. */
function isQtext(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/** ctext (§3.2.2): printable US-ASCII but `(`, `)` and `\`, plus 8-bit. */
function isCtext(c: number): boolean {
  return (c >= 0x21 && c <= 0x27) || (c >= 0x2a && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/** dtext (§3.4.1): printable US-ASCII but `[`, `]` and `\`, plus 8-bit. */
function isDtext(c: number): boolean {
  return (c >= 0x21 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e) || c >= 0x80;
}

/** Comments nested deeper than this are not strict (nobody writes them; they only cost stack). */
const MAX_COMMENT_DEPTH = 8;

/** A phrase item: a quoted string, or a run of atext and dots (an atom, a dot-atom, or obs-phrase dots). */
interface Word {
  quoted: boolean;
  text: string;
}

class StrictParser {
  i = 0;
  readonly comments: string[] = [];
  /** Comments seen since the current address began (the name of an address without display name). */
  #addressComments: string[] = [];

  constructor(readonly s: string) {}

  fail(why: string): never {
    throw new NotStrict(why);
  }

  code(at = this.i): number {
    return at < this.s.length ? this.s.charCodeAt(at) : -1;
  }

  /** FWS and comments (CFWS, §3.2.2); a folding CRLF must be followed by white space. */
  cfws(): void {
    for (;;) {
      this.fws();
      if (this.code() !== 0x28) return;
      this.comment(0);
    }
  }

  comment(depth: number): string {
    if (depth >= MAX_COMMENT_DEPTH) this.fail('comments nested too deep');
    this.i++; // (
    let text = '';
    for (;;) {
      const c = this.code();
      if (c < 0) this.fail('unterminated comment');
      if (c === 0x29) {
        this.i++;
        break;
      }
      if (c === 0x28) text += `(${this.comment(depth + 1)})`;
      else if (c === 0x5c) text += this.quotedPair();
      else if (c === 0x20 || c === 0x09 || c === 0x0d) {
        const before = this.i;
        this.fws();
        text += this.s.slice(before, this.i).replace(/\r\n/g, '');
      } else if (isCtext(c)) {
        text += this.s[this.i];
        this.i++;
      } else this.fail('control character in a comment');
    }
    if (depth === 0) {
      const t = text.trim();
      this.comments.push(t);
      if (t !== '') this.#addressComments.push(t);
    }
    return text;
  }

  fws(): void {
    for (;;) {
      const c = this.code();
      if (c === 0x20 || c === 0x09) this.i++;
      else if (c === 0x0d && this.code(this.i + 1) === 0x0a) {
        const n = this.code(this.i + 2);
        if (n !== 0x20 && n !== 0x09) this.fail('line break without folding white space');
        this.i += 2;
      } else return;
    }
  }

  /** quoted-pair (§3.2.1): `\` followed by VCHAR or WSP. */
  quotedPair(): string {
    const n = this.code(this.i + 1);
    if (!((n >= 0x21 && n <= 0x7e) || n === 0x20 || n === 0x09 || n >= 0x80)) this.fail('bad quoted pair');
    this.i += 2;
    return this.s[this.i - 1] as string;
  }

  /** quoted-string (§3.2.4) at `"`: its content, quoted pairs resolved, folding removed. */
  quotedString(): string {
    this.i++; // "
    let text = '';
    for (;;) {
      const c = this.code();
      if (c < 0) this.fail('unterminated quoted string');
      if (c === 0x22) {
        this.i++;
        return text;
      }
      if (c === 0x5c) text += this.quotedPair();
      else if (c === 0x20 || c === 0x09 || c === 0x0d) {
        const before = this.i;
        this.fws();
        text += this.s.slice(before, this.i).replace(/\r\n/g, '');
      } else if (isQtext(c)) {
        text += this.s[this.i];
        this.i++;
      } else this.fail('control character in a quoted string');
    }
  }

  /** A run of atext and dots (not validated as a dot-atom here). */
  atomRun(): string {
    const start = this.i;
    while (this.i < this.s.length && (isAtext(this.code()) || this.code() === 0x2e)) this.i++;
    return this.s.slice(start, this.i);
  }

  /** Phrase items up to the next special, each preceded by optional CFWS. */
  words(): Word[] {
    const words: Word[] = [];
    for (;;) {
      this.cfws();
      const c = this.code();
      if (c === 0x22) words.push({ quoted: true, text: this.quotedString() });
      else if (c >= 0 && (isAtext(c) || c === 0x2e)) words.push({ quoted: false, text: this.atomRun() });
      else return words;
    }
  }

  addressList(): ParsedAddress[] {
    const out: ParsedAddress[] = [];
    for (;;) {
      out.push(this.address(true));
      if (this.code() !== 0x2c) break;
      this.i++;
    }
    if (this.i < this.s.length) this.fail(`unexpected ${JSON.stringify(this.s[this.i])}`);
    return out;
  }

  /** address (§3.4): mailbox or (when allowed) group; leaves the cursor after trailing CFWS. */
  address(groupAllowed: boolean): ParsedAddress {
    this.#addressComments = [];
    const words = this.words();
    const c = this.code();
    if (c === 0x3a) {
      if (!groupAllowed) this.fail('group inside a group');
      const name = this.phrase(words);
      this.i++;
      const members: MailboxAddress[] = [];
      this.cfws();
      if (this.code() !== 0x3b) {
        for (;;) {
          members.push(this.address(false) as MailboxAddress);
          if (this.code() !== 0x2c) break;
          this.i++;
        }
      }
      if (this.code() !== 0x3b) this.fail('group without ;');
      this.i++;
      this.cfws();
      return { kind: 'group', name, members };
    }
    if (c === 0x3c) {
      const comments = this.#addressComments;
      const name = words.length > 0 ? this.phrase(words) : (comments[comments.length - 1] ?? null);
      this.i++;
      const { localPart, domain } = this.addrSpec(this.words());
      if (this.code() !== 0x3e) this.fail('angle address without >');
      this.i++;
      this.cfws();
      return { kind: 'mailbox', name, route: null, localPart, domain };
    }
    if (c === 0x40) {
      const { localPart, domain } = this.addrSpec(words);
      const comments = this.#addressComments;
      return { kind: 'mailbox', name: comments[comments.length - 1] ?? null, route: null, localPart, domain };
    }
    if (words.length === 0)
      this.fail(c < 0 ? 'empty address' : `unexpected ${JSON.stringify(this.s[this.i])}`);
    this.fail('address without @domain');
  }

  /** display-name = phrase (§3.2.5), with obs-phrase's dots: the words joined by one space. */
  phrase(words: Word[]): string {
    const first = words[0];
    if (!first) this.fail('empty display name');
    if (!first.quoted && first.text.startsWith('.')) this.fail('display name starting with a dot');
    return words.map((w) => w.text).join(' ');
  }

  /** addr-spec (§3.4.1) after its local part was read as `words`; the cursor is at `@`. */
  addrSpec(words: Word[]): { localPart: string; domain: string } {
    if (this.code() === 0x40 && words.length === 0) this.fail('route address or empty local part');
    if (words.length !== 1) this.fail('local part of several words');
    const local = words[0] as Word;
    if (!local.quoted && !isDotAtom(local.text)) this.fail('local part is not a dot-atom');
    if (this.code() !== 0x40) this.fail('address without @domain');
    this.i++;
    this.cfws();
    let domain: string;
    if (this.code() === 0x5b) {
      const start = this.i;
      this.i++;
      for (;;) {
        const c = this.code();
        if (c === 0x5d) break;
        if (c >= 0 && isDtext(c)) this.i++;
        else if (c === 0x20 || c === 0x09 || c === 0x0d) this.fws();
        else this.fail('bad domain literal');
      }
      this.i++;
      domain = this.s.slice(start, this.i).replace(/\r\n/g, '');
    } else {
      domain = this.atomRun();
      if (!isDotAtom(domain)) this.fail('domain is not a dot-atom');
    }
    this.cfws();
    // RFC 2047 §5 (3): an encoded word never appears in an addr-spec; some clients decode one anyway.
    if (/=\?/.test(local.text) || /=\?/.test(domain)) this.fail('encoded word in an address');
    return { localPart: local.text, domain };
  }
}

/** dot-atom-text (§3.2.3): atext runs separated by single dots. */
function isDotAtom(s: string): boolean {
  if (s === '' || s.startsWith('.') || s.endsWith('.') || s.includes('..')) return false;
  for (let i = 0; i < s.length; i++) if (!isAtext(s.charCodeAt(i)) && s[i] !== '.') return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Lenient reading (values that are not strict), as UW-IMAP and Dovecot read them for ENVELOPE.

type Token =
  | { t: 'atom'; v: string }
  | { t: 'quoted'; v: string }
  | { t: 'comment'; v: string }
  | { t: 'literal'; v: string }
  | { t: 'special'; v: string };

const SPECIALS = '<>@,;:';

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        v += text[i];
        i++;
      }
      i++;
      out.push({ t: 'quoted', v });
    } else if (c === '(') {
      let depth = 1;
      let v = '';
      i++;
      while (i < text.length && depth > 0) {
        const d = text[i] as string;
        if (d === '\\' && i + 1 < text.length) {
          v += text[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')') {
          depth--;
          if (depth === 0) break;
        }
        v += d;
        i++;
      }
      i++;
      out.push({ t: 'comment', v: v.trim() });
    } else if (c === '[') {
      const close = text.indexOf(']', i);
      const e = close < 0 ? text.length : close + 1;
      out.push({ t: 'literal', v: text.slice(i, e) });
      i = e;
    } else if (SPECIALS.includes(c)) {
      out.push({ t: 'special', v: c });
      i++;
    } else {
      let v = '';
      while (
        i < text.length &&
        !' \t\r\n"(['.includes(text[i] as string) &&
        !SPECIALS.includes(text[i] as string)
      ) {
        v += text[i];
        i++;
      }
      out.push({ t: 'atom', v });
    }
  }
  return out;
}

class Cursor {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  isSpecial(v: string): boolean {
    const t = this.tokens[this.i];
    return t?.t === 'special' && t.v === v;
  }
}

function lenientAddressList(text: string): ParsedAddress[] {
  const c = new Cursor(tokenize(text));
  const out: ParsedAddress[] = [];
  while (c.peek()) {
    if (c.isSpecial(',') || c.isSpecial(';') || c.isSpecial('>')) {
      c.i++;
      continue;
    }
    lenientAddress(c, out, null);
  }
  return out;
}

function phraseText(tokens: Token[]): string | null {
  const words = tokens.filter((t) => t.t === 'atom' || t.t === 'quoted').map((t) => t.v);
  return words.length > 0 ? words.join(' ') : null;
}

function commentText(tokens: Token[]): string | null {
  const c = tokens.filter((t) => t.t === 'comment' && t.v !== '');
  return c.length > 0 ? (c[c.length - 1] as Token).v : null;
}

/** One address (mailbox or group) at the cursor; appends to `out`, or to `group` inside one. */
function lenientAddress(c: Cursor, out: ParsedAddress[], group: GroupAddress | null): void {
  const add = (m: MailboxAddress) => (group ? group.members.push(m) : out.push(m));
  const phrase: Token[] = [];
  for (;;) {
    const t = c.peek();
    if (!t) break;
    if (t.t === 'special' && (t.v === '<' || t.v === ':' || t.v === ',' || t.v === ';' || t.v === '@')) break;
    if (t.t === 'special') {
      c.i++;
      continue;
    }
    phrase.push(t);
    c.i++;
  }
  const t = c.peek();
  if (t?.t === 'special' && t.v === ':' && !group) {
    c.i++;
    const g: GroupAddress = { kind: 'group', name: phraseText(phrase) ?? '', members: [] };
    out.push(g);
    while (c.peek() && !c.isSpecial(';')) {
      if (c.isSpecial(',')) {
        c.i++;
        continue;
      }
      lenientAddress(c, out, g);
    }
    if (c.isSpecial(';')) c.i++;
    return;
  }
  if (t?.t === 'special' && t.v === '<') {
    c.i++;
    const inner: Token[] = [];
    while (c.peek() && !c.isSpecial('>')) {
      inner.push(c.peek() as Token);
      c.i++;
    }
    if (c.isSpecial('>')) c.i++;
    // Trailing comments after the angle address are ignored.
    while (c.peek()?.t === 'comment') c.i++;
    const addr = lenientAddrSpec(inner, true);
    if (addr) {
      addr.name = phraseText(phrase) ?? commentText(phrase);
      add(addr);
    }
    return;
  }
  // addr-spec: the phrase is the local part, then optionally @ domain.
  const tokens = [...phrase];
  if (t?.t === 'special' && t.v === '@') {
    c.i++;
    tokens.push({ t: 'special', v: '@' });
    while (c.peek() && !c.isSpecial(',') && !c.isSpecial(';') && !c.isSpecial('<')) {
      tokens.push(c.peek() as Token);
      c.i++;
    }
  }
  if (tokens.every((x) => x.t === 'comment')) {
    if (c.peek() && !c.isSpecial(',') && !c.isSpecial(';')) c.i++;
    return;
  }
  const addr = lenientAddrSpec(tokens, false);
  if (addr) {
    addr.name = commentText(tokens);
    add(addr);
  }
}

/** `[route:] local@domain` from tokens (comments dropped); null when there is neither. */
function lenientAddrSpec(tokens: Token[], angle: boolean): MailboxAddress | null {
  let rest = tokens.filter((t) => t.t !== 'comment');
  let route: string | null = null;
  if (angle) {
    const colon = rest.findIndex((t) => t.t === 'special' && t.v === ':');
    if (colon >= 0 && rest[0]?.t === 'special' && rest[0].v === '@') {
      route = rest
        .slice(0, colon)
        .map((t) => t.v)
        .join('');
      rest = rest.slice(colon + 1);
    }
  }
  const at = rest.map((t) => t.t === 'special' && t.v === '@').lastIndexOf(true);
  const local = (at >= 0 ? rest.slice(0, at) : rest).map((t) => t.v).join('');
  const domain =
    at >= 0
      ? rest
          .slice(at + 1)
          .map((t) => t.v)
          .join('')
      : '';
  if (local === '' && domain === '') return null;
  return { kind: 'mailbox', name: null, route, localPart: local, domain: domain === '' ? null : domain };
}

// ---------------------------------------------------------------------------------------------------------
// Display names as clients show them.

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * A display name as a client would show it: encoded words (RFC 2047) decoded wherever they appear (some
 * clients decode them inside quoted strings too), other bytes read as UTF-8 (RFC 6532). Null when an
 * encoded word names a charset we cannot decode (a client might, so the name cannot be judged).
 */
export function decodeDisplayName(latin1: string): string | null {
  let unknown = false;
  const decoded = latin1
    .replace(/\?=\s+=\?/g, '?==?') // RFC 2047 §6.2: white space between encoded words is dropped
    .replace(ENCODED_WORD, (_all, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toLowerCase() === 'b'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9a-fA-F]{2})/g, (_m, hex: string) =>
                  String.fromCharCode(Number.parseInt(hex, 16)),
                ),
              'latin1',
            );
      try {
        return Buffer.from(new TextDecoder(charset.split('*')[0]).decode(bytes), 'utf8').toString('latin1');
      } catch {
        unknown = true;
        return '';
      }
    });
  return unknown ? null : Buffer.from(decoded, 'latin1').toString('utf8');
}
