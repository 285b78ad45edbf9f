/**
 * What SORT and THREAD compare (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO), read from each message's
 * header block only: at most `HEADER_READ` octets of a message, read in groups of `READ_GROUP` messages
 * (memory bounded whatever the message sizes).
 */
import type { MessageMeta } from '../backend.js';
import type { ImapContext } from '../context.js';
import { HEADER_READ } from '../fetch/summary.js';
import { MISSING_HOST, parseAddressList } from '../mime/address.js';
import { decodeEncodedWords, decodeUnknown, unfold } from '../mime/decode.js';
import { fieldValue, findField, type HeaderField, parseHeader } from '../mime/header.js';
import { MONTHS } from '../parser/datetime.js';
import type { Candidate } from '../search/evaluate.js';
import { baseSubject } from './subject.js';

/** Messages whose headers are read with one `readBodies` call. */
export const READ_GROUP = 256;

export interface SortValues {
  seq: number;
  uid: number;
  meta: MessageMeta;
  /** RFC 5256 §2.2 sent date: the Date header in UTC, or the internal date when it is missing or invalid. */
  date: number;
  /** The base subject (RFC 5256 §2.1), case-mapped: SORT SUBJECT and THREAD compare by i;ascii-casemap. */
  subject: string;
  isReplyOrForward: boolean;
  /** addr-mailbox of the first address (RFC 5256 §3: FROM, TO, CC), upper-cased for i;ascii-casemap. */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957: the display name of the first address, else its addr-spec. */
  displayFrom: string;
  displayTo: string;
  /** THREAD REFERENCES: the message's own Message-ID (null when missing), and its references. */
  messageId: string | null;
  references: string[];
}

/** Which header values a caller needs (the address and id parsing is skipped otherwise). */
export interface ValueNeeds {
  addresses: boolean;
  references: boolean;
}

export async function sortValues(
  ctx: ImapContext,
  found: readonly Candidate[],
  needs: ValueNeeds,
): Promise<SortValues[]> {
  const out: SortValues[] = [];
  for (let i = 0; i < found.length; i += READ_GROUP) {
    const group = found.slice(i, i + READ_GROUP);
    const heads = await ctx.services.backend.readBodies(
      ctx.user.id,
      group.map((c) => ({ blobId: c.meta.blobId, length: HEADER_READ })),
    );
    group.forEach((c, j) => {
      out.push(valuesOf(c, heads[j] ?? Buffer.alloc(0), needs));
    });
  }
  return out;
}

function valuesOf(c: Candidate, head: Buffer, needs: ValueNeeds): SortValues {
  const { fields } = parseHeader(head, 0, head.length);
  const text = (key: string): string | null => {
    const f = findField(fields, key);
    return f ? unfold(decodeUnknown(fieldValue(head, f))) : null;
  };
  const subject = baseSubject(text('subject') ?? '');
  const v: SortValues = {
    seq: c.seq,
    uid: c.meta.uid,
    meta: c.meta,
    date: parseSentDate(text('date')) ?? c.meta.internalDate.getTime(),
    subject: casemap(subject.subject),
    isReplyOrForward: subject.isReplyOrForward,
    from: '',
    to: '',
    cc: '',
    displayFrom: '',
    displayTo: '',
    messageId: null,
    references: [],
  };
  if (needs.addresses) {
    const from = firstAddress(head, fields, 'from');
    const to = firstAddress(head, fields, 'to');
    v.from = from.mailbox;
    v.to = to.mailbox;
    v.cc = firstAddress(head, fields, 'cc').mailbox;
    v.displayFrom = from.display;
    v.displayTo = to.display;
  }
  if (needs.references) {
    v.messageId = messageIds(text('message-id') ?? '')[0] ?? null;
    const refs = messageIds(text('references') ?? '');
    // RFC 5256 §3 REFERENCES step 1: without a valid References, the first id of In-Reply-To.
    v.references = refs.length > 0 ? refs : messageIds(text('in-reply-to') ?? '').slice(0, 1);
  }
  return v;
}

function firstAddress(
  head: Buffer,
  fields: readonly HeaderField[],
  key: string,
): { mailbox: string; display: string } {
  const f = findField(fields, key);
  if (!f) return { mailbox: '', display: '' };
  const a = parseAddressList(unfold(fieldValue(head, f).toString('latin1'))).find((x) => x.mailbox !== null);
  if (!a) return { mailbox: '', display: '' };
  const mailbox = a.mailbox ?? '';
  const spec = a.host && a.host !== MISSING_HOST ? `${mailbox}@${a.host}` : mailbox;
  const name = a.name ? decodeEncodedWords(Buffer.from(a.name, 'latin1').toString('utf8')).trim() : '';
  return { mailbox: casemap(mailbox), display: casemap(name || spec) };
}

/** i;ascii-casemap (RFC 4790 §9.2): ASCII letters compared upper-cased. */
export function casemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** `<id>` tokens of a Message-ID, References or In-Reply-To value, in order. */
function messageIds(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]+)>/g)) out.push((m[1] as string).toLowerCase());
  return out;
}

const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));
/** day month year hh:mm[:ss] [zone] (RFC 5322 §3.3, leniently: no weekday needed, obsolete zones). */
const DATE =
  /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]+)?/;
const ZONES: Record<string, number> = {
  UT: 0,
  GMT: 0,
  Z: 0,
  EST: -5,
  EDT: -4,
  CST: -6,
  CDT: -5,
  MST: -7,
  MDT: -6,
  PST: -8,
  PDT: -7,
};

/** The Date header as milliseconds since the epoch (UTC), or null when it cannot be read. */
export function parseSentDate(value: string | null): number | null {
  if (!value) return null;
  const m = DATE.exec(value.replace(/\([^)]*\)/g, ' '));
  if (!m) return null;
  const month = MONTH_INDEX.get((m[2] as string).toLowerCase());
  if (month === undefined) return null;
  let year = Number(m[3]);
  if ((m[3] as string).length === 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] as string).length === 3) year += 1900;
  const zone = m[7] ?? '+0000';
  let offsetMinutes = 0;
  if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone[0] === '-' ? -1 : 1;
    offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else {
    offsetMinutes = (ZONES[zone.toUpperCase()] ?? 0) * 60;
  }
  const t = Date.UTC(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isFinite(t) ? t - offsetMinutes * 60_000 : null;
}
