/**
 * ENVELOPE (RFC 9051 §7.5.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id
 * from the first occurrence of each header field, values raw (unfolded, encoded words kept, 8-bit bytes as
 * stored). Sender and Reply-To default to From when absent (RFC 9051 §7.5.2).
 */
import { nstring, paren, type Wire } from '../wire.js';
import { type EnvelopeAddress, parseAddressList } from './address.js';
import { findField, unfoldedValue } from './header.js';
import type { MimePart } from './parser.js';

function bytes(text: string | null): Buffer | null {
  return text === null ? null : Buffer.from(text, 'latin1');
}

function addressWire(list: EnvelopeAddress[]): Wire {
  if (list.length === 0) return 'NIL';
  return [
    '(',
    list.map((a) =>
      paren([
        nstring(bytes(a.name)),
        nstring(bytes(a.adl)),
        nstring(bytes(a.mailbox)),
        nstring(bytes(a.host)),
      ]),
    ),
    ')',
  ];
}

export interface Envelope {
  date: Buffer | null;
  subject: Buffer | null;
  from: EnvelopeAddress[];
  sender: EnvelopeAddress[];
  replyTo: EnvelopeAddress[];
  to: EnvelopeAddress[];
  cc: EnvelopeAddress[];
  bcc: EnvelopeAddress[];
  inReplyTo: Buffer | null;
  messageId: Buffer | null;
}

/**
 * The envelope of a message (the root part, or the part encapsulated in message/rfc822). Only the header
 * fields are used: the header block alone is enough (FETCH ENVELOPE reads no further).
 */
export function envelopeOf(raw: Buffer, part: Pick<MimePart, 'fields'>): Envelope {
  const value = (key: string): Buffer | null => {
    const f = findField(part.fields, key);
    return f ? unfoldedValue(raw, f) : null;
  };
  const addresses = (key: string): EnvelopeAddress[] => {
    const v = value(key);
    return v ? parseAddressList(v.toString('latin1')) : [];
  };
  const from = addresses('from');
  const sender = addresses('sender');
  const replyTo = addresses('reply-to');
  return {
    date: value('date'),
    subject: value('subject'),
    from,
    sender: sender.length > 0 ? sender : from,
    replyTo: replyTo.length > 0 ? replyTo : from,
    to: addresses('to'),
    cc: addresses('cc'),
    bcc: addresses('bcc'),
    inReplyTo: value('in-reply-to'),
    messageId: value('message-id'),
  };
}

export function envelopeWire(e: Envelope): Wire {
  return paren([
    nstring(e.date),
    nstring(e.subject),
    addressWire(e.from),
    addressWire(e.sender),
    addressWire(e.replyTo),
    addressWire(e.to),
    addressWire(e.cc),
    addressWire(e.bcc),
    nstring(e.inReplyTo),
    nstring(e.messageId),
  ]);
}
