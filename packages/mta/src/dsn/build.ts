/**
 * Delivery Status Notifications (RFC 3461 §6, RFC 3464, RFC 6522 multipart/report, RFC 3834
 * Auto-Submitted). `buildDsn` streams a complete RFC 5322 message; the caller sends it with a null
 * reverse-path (RFC 3461 §6.2) and decides whether one is due with `shouldSendDsn` (policy.ts).
 *
 * The original message is never held in memory: `original` opens it (the spool file) and the bytes are
 * copied through. It is opened twice: a first pass looks for 8-bit bytes, so that the parts and the
 * message are labelled `Content-Transfer-Encoding: 8bit` truthfully before any of them is written
 * (skipped when the caller knows, `original8bit`). A top-level `Content-Transfer-Encoding: 8bit` therefore
 * means the DSN must be relayed with BODY=8BITMIME.
 *
 * What is returned of the original (RFC 3461 §4.3):
 * - a DSN reporting no failure (only delayed/delivered/relayed/expanded recipients) carries the headers
 *   only, whatever RET says ("If a DSN contains no indications of delivery failure, only the headers of
 *   the message should be returned");
 * - a failure DSN: RET=HDRS → `text/rfc822-headers`; RET=FULL → `message/rfc822`, the whole message;
 * - a failure DSN without RET (RFC 3461 leaves the choice to the MTA): the whole message, as Postfix,
 *   Sendmail and Exim do for bounces. The sender may have no other copy (a client that keeps none, a
 *   script), and it is their own message coming back to them, accepted earlier within our size limit.
 *   Senders who do not want it back say RET=HDRS.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { rfc5322Date } from '../trace.js';
import type { DsnAction } from './policy.js';

export interface DsnRecipient {
  /** The address the outcome is about (after alias expansion). */
  finalRecipient: string;
  /** RFC 3461 ORCPT: `addr-type;address` as received (xtext already decoded), or a bare address (rfc822). */
  originalRecipient?: string;
  action: DsnAction;
  /** RFC 3463 status, e.g. `5.1.1` (see `statusForReply`). */
  status: string;
  /** The host that gave the reply, when there was one. */
  remoteMta?: string;
  /** The SMTP reply text (`550 5.1.1 No such user`); multi-line replies are joined. */
  diagnostic?: string;
  lastAttempt?: Date;
  /** For `delayed`: when we give up. */
  willRetryUntil?: Date;
  /** An ambiguous address (X.1.4): the official addresses it could mean, so the sender can pick one. */
  candidates?: string[];
}

export interface DsnInput {
  /** Our host name: `Reporting-MTA`, the From and the Message-ID domain. */
  reportingHost: string;
  /** The original envelope sender, who gets the DSN. Never empty (no DSN for the null sender). */
  sender: string;
  /** RFC 3461 ENVID (xtext decoded). */
  envid?: string | null;
  /** RFC 3461 RET; see the module comment for what absent means. */
  ret?: 'FULL' | 'HDRS' | null;
  /** When we received the original. */
  arrivalDate: Date;
  now: Date;
  recipients: DsnRecipient[];
  /** Opens the original message (may be called twice; each stream is consumed or destroyed). */
  original: () => Readable;
  /** Message-ID generator (tests); with or without the angle brackets. */
  messageId?: () => string;
  /** Whether the original holds 8-bit bytes, when known; otherwise a first pass over it finds out. */
  original8bit?: boolean;
}

const CRLF = '\r\n';
const CR = 0x0d;
const LF = 0x0a;
const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;

/** Control characters (CR, LF included) become spaces: no header injection through any input. */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** message/delivery-status is US-ASCII (RFC 3464 §2.1; RFC 6533 is the UTF-8 variant we do not emit). */
function ascii(s: string): string {
  return oneLine(s).replace(/[^\x20-\x7e]/gu, '?');
}

/** RFC 6533 §3 utf-8-addr-xtext: printable ASCII but `+`, `=`, `\` as is, the rest as `\x{HEX}`. */
function utf8AddrXtext(addr: string): string {
  let out = '';
  for (const ch of addr) {
    const cp = ch.codePointAt(0) ?? 0;
    out +=
      cp > 0x20 && cp < 0x7f && ch !== '+' && ch !== '=' && ch !== '\\'
        ? ch
        : `\\x{${cp.toString(16).toUpperCase()}}`;
  }
  return out;
}

/** `rfc822;addr`, or RFC 6533 `utf-8;` form for an internationalized address (SMTPUTF8). */
function typedAddress(address: string): string {
  const a = oneLine(address);
  return /^[\x21-\x7e]*$/.test(a) ? `rfc822;${a}` : `utf-8;${utf8AddrXtext(a)}`;
}

/** An ORCPT value: `addr-type;address` kept (rfc822 re-typed when not ASCII), a bare address typed rfc822. */
function originalRecipientField(orcpt: string): string {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*;\s*(.*)$/su.exec(orcpt.trim());
  if (!m) return typedAddress(orcpt);
  const type = m[1] ?? 'rfc822';
  const value = oneLine(m[2] ?? '');
  if (type.toLowerCase() === 'rfc822') return typedAddress(value);
  return `${type};${/^[\x21-\x7e]*$/.test(value) ? value : utf8AddrXtext(value)}`;
}

/** A header field, folded at spaces to about 78 columns (RFC 5322 §2.2.3); words are cut at 900 bytes. */
function field(name: string, value: string): string {
  const words = value
    .split(' ')
    .filter((w) => w !== '')
    .map((w) => w.slice(0, 900));
  let line = `${name}:`;
  const lines: string[] = [];
  for (const w of words) {
    if (line.length + 1 + w.length > 78 && line.length > name.length + 1) {
      lines.push(line);
      line = ` ${w}`;
    } else line += ` ${w}`;
  }
  lines.push(line);
  return lines.join(CRLF) + CRLF;
}

function sanitizeHost(host: string): string {
  return ascii(host).replace(/[\s<>()@;]/g, '') || 'localhost';
}

function hasFailure(input: DsnInput): boolean {
  return input.recipients.some((r) => r.action === 'failed');
}

function subjectFor(input: DsnInput): string {
  const actions = new Set(input.recipients.map((r) => r.action));
  if (actions.has('failed')) return 'Undelivered Mail Returned to Sender';
  if (actions.has('delayed')) return 'Delayed Mail (still being retried)';
  if (actions.has('delivered')) return 'Successful Mail Delivery Report';
  return 'Relayed Mail Report';
}

/** Display form of an ORCPT for people: the address without its type. */
function displayOriginal(orcpt: string): string {
  const m = /^[A-Za-z0-9][A-Za-z0-9-]*\s*;\s*(.*)$/su.exec(orcpt.trim());
  return oneLine(m ? (m[1] ?? '') : orcpt);
}

/** Word-wraps prose to 76 columns, every line starting with `indent` (a long word is left whole). */
function wrap(text: string, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ').filter((x) => x !== '')) {
    if (line !== '' && indent.length + line.length + 1 + w.length > 76) {
      lines.push(indent + line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  lines.push(indent + line);
  return lines;
}

function humanText(input: DsnInput, host: string, fullReturned: boolean): string {
  const out: string[] = [`This is the mail system at ${host}.`, ''];
  const groups: Array<[DsnAction, string]> = [
    ['failed', 'Your message could not be delivered to the following recipients:'],
    [
      'delayed',
      'Your message has not been delivered yet to the following recipients. ' +
        'Delivery is still being retried; you do not need to send it again:',
    ],
    ['delivered', 'Your message was delivered to the following recipients:'],
    [
      'relayed',
      'Your message was passed on to the following recipients, whose mail systems do not report ' +
        'delivery; you may receive no further notice about them:',
    ],
    ['expanded', 'Your message was passed on to the members of the following lists:'],
  ];
  for (const [action, intro] of groups) {
    const rs = input.recipients.filter((r) => r.action === action);
    if (rs.length === 0) continue;
    out.push(...wrap(intro), '');
    for (const r of rs) {
      const orig = r.originalRecipient ? displayOriginal(r.originalRecipient) : '';
      const final = oneLine(r.finalRecipient);
      out.push(
        `  <${final}>${orig && orig.toLowerCase() !== final.toLowerCase() ? ` (sent to <${orig}>)` : ''}`,
      );
      if (r.candidates && r.candidates.length > 0) {
        out.push(
          ...wrap(
            'This address matches several people. Please send your message again to the one you meant:',
            '    ',
          ),
        );
        for (const c of r.candidates) out.push(`      ${oneLine(c)}`);
      }
      if (r.remoteMta && r.diagnostic)
        out.push(...wrap(`${oneLine(r.remoteMta)} said: ${oneLine(r.diagnostic)}`, '    '));
      else if (r.diagnostic) out.push(...wrap(`Reason: ${oneLine(r.diagnostic)}`, '    '));
      out.push(`    Status: ${r.status}`);
      if (r.willRetryUntil) out.push(`    We will keep trying until ${rfc5322Date(r.willRetryUntil)}.`);
      out.push('');
    }
  }
  out.push(
    fullReturned
      ? 'Your original message is attached.'
      : 'The headers of your original message are attached.',
  );
  return out.join(CRLF) + CRLF;
}

function deliveryStatus(input: DsnInput, host: string): string {
  // RFC 3464 §2.2 per-message-fields, in the grammar's order.
  let s = '';
  if (input.envid != null && input.envid !== '') s += field('Original-Envelope-Id', ascii(input.envid));
  s += field('Reporting-MTA', `dns; ${host}`);
  s += field('Arrival-Date', rfc5322Date(input.arrivalDate));
  for (const r of input.recipients) {
    // §2.3 per-recipient-fields, each group preceded by a blank line.
    s += CRLF;
    if (r.originalRecipient) s += field('Original-Recipient', originalRecipientField(r.originalRecipient));
    s += field('Final-Recipient', typedAddress(r.finalRecipient));
    s += field('Action', r.action);
    s += field('Status', r.status);
    if (r.remoteMta) s += field('Remote-MTA', `dns; ${sanitizeHost(r.remoteMta)}`);
    if (r.diagnostic) s += field('Diagnostic-Code', `smtp; ${ascii(r.diagnostic)}`);
    if (r.lastAttempt) s += field('Last-Attempt-Date', rfc5322Date(r.lastAttempt));
    if (r.willRetryUntil) s += field('Will-Retry-Until', rfc5322Date(r.willRetryUntil));
  }
  return s;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('original: expected a byte stream');
}

/**
 * The original's bytes, unmodified; with `headersOnly`, the header block only (up to and including the
 * line break of the last header line; the blank line and the body are left unread). Bare LF line ends
 * are recognised as well as CRLF. Leaving the loop early destroys the source stream.
 */
export async function* originalBytes(open: () => Readable, headersOnly: boolean): AsyncGenerator<Buffer> {
  const src = open();
  try {
    if (!headersOnly) {
      for await (const chunk of src) yield toBuffer(chunk);
      return;
    }
    let atLineStart = true; // at the start of the message or after an LF
    let crAt: number | null = null; // a CR at a line start, withheld: it may open the blank line (-1: previous chunk)
    for await (const raw of src) {
      const c = toBuffer(raw);
      for (let i = 0; i < c.length; i++) {
        const b = c[i];
        if (atLineStart && b === LF) {
          const end = crAt === null ? i : Math.max(crAt, 0);
          if (end > 0) yield c.subarray(0, end);
          return;
        }
        if (crAt !== null) {
          // The line began with a CR not followed by LF: an ordinary (odd) line. Release the CR.
          if (crAt < 0) yield Buffer.from([CR]);
          crAt = null;
          atLineStart = false;
        }
        if (atLineStart && b === CR) crAt = i;
        else atLineStart = b === LF;
      }
      const end = crAt === null ? c.length : Math.max(crAt, 0);
      if (end > 0) yield c.subarray(0, end);
      if (crAt !== null) crAt = -1;
    }
    if (crAt !== null) yield Buffer.from([CR]);
  } finally {
    src.destroy();
  }
}

async function has8bit(bytes: AsyncIterable<Buffer>): Promise<boolean> {
  for await (const c of bytes) for (const b of c) if (b >= 0x80) return true;
  return false;
}

/**
 * Streams the DSN. Throws at once on an invalid input (empty sender, no recipients, a malformed status);
 * errors reading the original surface as stream errors.
 */
export function buildDsn(input: DsnInput): Readable {
  if (oneLine(input.sender) === '' || oneLine(input.sender) === '<>')
    throw new Error('buildDsn: no DSN for the null sender (RFC 3461 §6.2)');
  if (input.recipients.length === 0) throw new Error('buildDsn: no recipients to report');
  for (const r of input.recipients)
    if (!STATUS.test(r.status))
      throw new Error(`buildDsn: malformed RFC 3463 status ${JSON.stringify(r.status)}`);

  const host = sanitizeHost(input.reportingHost);
  const rawId = input.messageId
    ? oneLine(input.messageId())
    : `${Date.now().toString(36)}.${randomBytes(12).toString('hex')}@${host}`;
  const messageId = rawId.startsWith('<') ? rawId : `<${rawId}>`;
  // "=_" cannot occur in base64 or quoted-printable text; 192 random bits make a clash with an 8-bit or
  // 7-bit original vanishingly unlikely (RFC 2046 §5.1.1).
  const boundary = `=_dsn_${randomBytes(24).toString('hex')}`;
  const full = hasFailure(input) && input.ret !== 'HDRS';
  const text = humanText(input, host, full);
  const text8bit = /[^\p{ASCII}]/u.test(text);
  const status = deliveryStatus(input, host);

  async function* generate(): AsyncGenerator<Buffer> {
    const original8bit = input.original8bit ?? (await has8bit(originalBytes(input.original, !full)));
    const any8bit = text8bit || original8bit;
    const head = [
      `From: Mail Delivery System <MAILER-DAEMON@${host}>${CRLF}`,
      `To: <${oneLine(input.sender)}>${CRLF}`,
      field('Subject', subjectFor(input)),
      field('Date', rfc5322Date(input.now)),
      `Message-ID: ${messageId}${CRLF}`,
      `Auto-Submitted: auto-replied${CRLF}`,
      `MIME-Version: 1.0${CRLF}`,
      `Content-Type: multipart/report; report-type=delivery-status;${CRLF}\tboundary="${boundary}"${CRLF}`,
      any8bit ? `Content-Transfer-Encoding: 8bit${CRLF}` : '',
      CRLF,
      `This is a MIME-encapsulated delivery status notification.${CRLF}`,
      // (1) for people
      `${CRLF}--${boundary}${CRLF}`,
      `Content-Description: Notification${CRLF}`,
      `Content-Type: text/plain; charset=utf-8${CRLF}`,
      `Content-Transfer-Encoding: ${text8bit ? '8bit' : '7bit'}${CRLF}`,
      CRLF,
      text,
      // (2) for programs (RFC 3464)
      `${CRLF}--${boundary}${CRLF}`,
      `Content-Description: Delivery report${CRLF}`,
      `Content-Type: message/delivery-status${CRLF}`,
      CRLF,
      status,
      // (3) the original, or its header block, byte for byte
      `${CRLF}--${boundary}${CRLF}`,
      full
        ? `Content-Description: Undelivered Message${CRLF}Content-Type: message/rfc822${CRLF}`
        : `Content-Description: Message Headers${CRLF}Content-Type: text/rfc822-headers${CRLF}`,
      `Content-Transfer-Encoding: ${original8bit ? '8bit' : '7bit'}${CRLF}`,
      CRLF,
    ].join('');
    yield Buffer.from(head, 'utf8');
    yield* originalBytes(input.original, !full);
    yield Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'ascii');
  }

  return Readable.from(generate(), { objectMode: false });
}
