/**
 * FETCH data items (RFC 9051 §6.4.5, RFC 3501 §6.4.5 for RFC822.*, RFC 7162 §3.1.4 MODSEQ) parsed from
 * the argument tree, and section specifications `[1.2.HEADER.FIELDS (From)]<0.100>`.
 */
import { badCommand } from '../errors.js';
import { argText } from '../parser/args.js';
import { ArgTokenizer } from '../parser/tokenizer.js';
import type { Arg } from '../parser/types.js';

export type SectionText = '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface Section {
  /** Part numbers (`1.2` → [1, 2]); empty for the message itself. */
  part: number[];
  text: SectionText;
  /** Field names of HEADER.FIELDS[.NOT], as the client gave them. */
  fields: string[];
}

export type FetchItem =
  | { kind: 'UID' }
  | { kind: 'FLAGS' }
  | { kind: 'INTERNALDATE' }
  | { kind: 'RFC822.SIZE' }
  | { kind: 'ENVELOPE' }
  | { kind: 'BODY' }
  | { kind: 'BODYSTRUCTURE' }
  | { kind: 'MODSEQ' }
  | { kind: 'RFC822' }
  | { kind: 'RFC822.HEADER' }
  | { kind: 'RFC822.TEXT' }
  | { kind: 'section'; peek: boolean; section: Section; partial: { offset: number; length: number } | null }
  /** BINARY[part]<partial> / BINARY.PEEK (RFC 3516 §4.2): the part with its transfer encoding removed. */
  | { kind: 'binary'; peek: boolean; part: number[]; partial: { offset: number; length: number } | null }
  /** BINARY.SIZE[part] (RFC 3516 §4.2): the decoded size. */
  | { kind: 'binary.size'; part: number[] };

const SIMPLE = new Set([
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
]);

/** RFC 9051 §6.4.5 macros. */
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SECTION_ITEM = /^(BODY|BODY\.PEEK)\[(.*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/is;
/** RFC 3516 §4.2: section-binary = "[" [section-part] "]". */
const BINARY_ITEM =
  /^(BINARY|BINARY\.PEEK|BINARY\.SIZE)\[((?:[1-9]\d{0,8})(?:\.[1-9]\d{0,8})*)?\](?:<(\d{1,10})\.(\d{1,10})>)?$/i;

/** Parses `1.2.HEADER.FIELDS (A B)` (the text inside the brackets). */
export function parseSection(text: string): Section {
  let part: number[] = [];
  let rest = text;
  const m = /^(\d+(?:\.\d+)*)(\.|$)/.exec(text);
  if (m) {
    part = (m[1] as string).split('.').map(Number);
    if (part.some((n) => n < 1 || n > 0x7fffffff)) throw badCommand('Invalid section part number');
    rest = text.slice(m[0].length);
    if (m[2] === '.' && rest === '') throw badCommand('Invalid section');
  }
  const sp = rest.indexOf(' ');
  const keyword = (sp < 0 ? rest : rest.slice(0, sp)).toUpperCase();
  const listText = sp < 0 ? '' : rest.slice(sp + 1);
  switch (keyword) {
    case '':
    case 'HEADER':
    case 'TEXT':
    case 'MIME':
      if (listText !== '') throw badCommand('Invalid section');
      if (keyword === 'MIME' && part.length === 0) throw badCommand('MIME needs a part number');
      return { part, text: keyword, fields: [] };
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const t = new ArgTokenizer({ maxNesting: 1, maxArguments: 1000 });
      const r = t.feed(Buffer.from(listText, 'utf8'));
      const list = t.args[0];
      if (r.kind !== 'end' || t.args.length !== 1 || list?.kind !== 'list' || list.items.length === 0) {
        throw badCommand('Invalid header field list');
      }
      const fields = list.items.map((a) => {
        const name = argText(a, 'header field name');
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw badCommand('Invalid header field name');
        return name;
      });
      return { part, text: keyword, fields };
    }
    default:
      throw badCommand('Invalid section');
  }
}

/** The section as echoed in the response: `1.2.HEADER.FIELDS (FROM TO)`. */
export function sectionText(s: Section): string {
  let out = s.part.join('.');
  if (s.text !== '') out += (out ? '.' : '') + s.text;
  if (s.fields.length > 0) out += ` (${s.fields.map((f) => f.toUpperCase()).join(' ')})`;
  return out;
}

function parseItem(a: Arg): FetchItem[] {
  if (a.kind !== 'atom') throw badCommand('Invalid fetch item');
  const upper = a.value.toUpperCase();
  if (SIMPLE.has(upper)) return [{ kind: upper } as FetchItem];
  const bin = BINARY_ITEM.exec(a.value);
  if (bin) {
    const kind = (bin[1] as string).toUpperCase();
    const part = bin[2] ? bin[2].split('.').map(Number) : [];
    const partial = bin[3] !== undefined ? { offset: Number(bin[3]), length: Number(bin[4]) } : null;
    if (kind === 'BINARY.SIZE') {
      if (partial) throw badCommand('BINARY.SIZE takes no partial');
      return [{ kind: 'binary.size', part }];
    }
    if (partial && partial.length === 0) throw badCommand('Invalid partial length');
    return [{ kind: 'binary', peek: kind === 'BINARY.PEEK', part, partial }];
  }
  const m = SECTION_ITEM.exec(a.value);
  if (!m) throw badCommand(`Invalid fetch item ${upper.slice(0, 40)}`);
  const partial = m[3] !== undefined ? { offset: Number(m[3]), length: Number(m[4]) } : null;
  if (partial && partial.length === 0) throw badCommand('Invalid partial length');
  return [
    {
      kind: 'section',
      peek: (m[1] as string).toUpperCase() === 'BODY.PEEK',
      section: parseSection(m[2] as string),
      partial,
    },
  ];
}

/** The fetch attribute argument: a macro, one item, or a list of items. */
export function parseFetchItems(a: Arg): FetchItem[] {
  if (a.kind === 'atom') {
    const macro = MACROS[a.value.toUpperCase()];
    if (macro) return macro.map((k) => ({ kind: k }) as FetchItem);
    return parseItem(a);
  }
  if (a.kind === 'list') {
    if (a.items.length === 0) throw badCommand('Empty fetch item list');
    return a.items.flatMap(parseItem);
  }
  throw badCommand('Invalid fetch items');
}

/** Whether an item needs the message bytes. */
export function needsContent(item: FetchItem): boolean {
  return !['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ'].includes(item.kind);
}

/** Whether an item sets \Seen (RFC 9051 §6.4.5: BODY[...] and BINARY[...] without PEEK, RFC822, RFC822.TEXT). */
export function setsSeen(item: FetchItem): boolean {
  return (
    ((item.kind === 'section' || item.kind === 'binary') && !item.peek) ||
    item.kind === 'RFC822' ||
    item.kind === 'RFC822.TEXT'
  );
}
