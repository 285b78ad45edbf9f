/**
 * RFC 5322 §3.4 address lists, leniently, for ENVELOPE (RFC 9051 §7.5.2): each mailbox as
 * (name adl mailbox host); groups as (NIL NIL group NIL) ... (NIL NIL NIL NIL). Works on latin1 strings
 * so 8-bit bytes come back unchanged; names keep their encoded words (ENVELOPE returns raw values).
 *
 * As UW-IMAP and Dovecot: a mailbox without domain gets the host `.MISSING-HOST-NAME.` (a NIL host
 * would read as a group marker); a missing display name is taken from a trailing comment
 * (`joe@example.org (Joe)`).
 */

export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

export const MISSING_HOST = '.MISSING-HOST-NAME.';

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

/** Parses an address list header value (unfolded, latin1). */
export function parseAddressList(text: string): EnvelopeAddress[] {
  const c = new Cursor(tokenize(text));
  const out: EnvelopeAddress[] = [];
  while (c.peek()) {
    if (c.isSpecial(',') || c.isSpecial(';') || c.isSpecial('>')) {
      c.i++;
      continue;
    }
    parseAddress(c, out, false);
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

/** One address (mailbox or group) at the cursor; appends to `out`. */
function parseAddress(c: Cursor, out: EnvelopeAddress[], inGroup: boolean): void {
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
  if (t?.t === 'special' && t.v === ':' && !inGroup) {
    c.i++;
    out.push({ name: null, adl: null, mailbox: phraseText(phrase) ?? '', host: null });
    while (c.peek() && !c.isSpecial(';')) {
      if (c.isSpecial(',')) {
        c.i++;
        continue;
      }
      parseAddress(c, out, true);
    }
    if (c.isSpecial(';')) c.i++;
    out.push({ name: null, adl: null, mailbox: null, host: null });
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
    const addr = addrSpec(inner, true);
    addr.name = phraseText(phrase) ?? commentText(phrase);
    if (addr.mailbox !== null || addr.host !== null) out.push(addr);
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
  const addr = addrSpec(tokens, false);
  addr.name = commentText(tokens);
  out.push(addr);
}

/** `[route:] local@domain` from tokens (comments dropped). */
function addrSpec(tokens: Token[], angle: boolean): EnvelopeAddress {
  let rest = tokens.filter((t) => t.t !== 'comment');
  let adl: string | null = null;
  if (angle) {
    const colon = rest.findIndex((t) => t.t === 'special' && t.v === ':');
    if (colon >= 0 && rest[0]?.t === 'special' && rest[0].v === '@') {
      adl = rest
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
  if (local === '' && domain === '') return { name: null, adl, mailbox: null, host: null };
  return { name: null, adl, mailbox: local, host: domain === '' ? MISSING_HOST : domain };
}
