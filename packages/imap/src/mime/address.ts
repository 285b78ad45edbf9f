/**
 * Address lists for ENVELOPE (RFC 9051 §7.5.2), read by the appliance's one RFC 5322 §3.4 parser
 * (`parseAddressList` of @delegato/sasl, which submission's sender check uses too, so a client is shown
 * the addresses the check approved): each mailbox as (name adl mailbox host); groups as
 * (NIL NIL group NIL) ... (NIL NIL NIL NIL). Values are latin1 strings so 8-bit bytes come back unchanged;
 * names keep their encoded words (ENVELOPE returns raw values).
 *
 * As UW-IMAP and Dovecot: a value that is not strict RFC 5322 still gets the parser's lenient reading; a
 * mailbox without domain gets the host `.MISSING-HOST-NAME.` (a NIL host would read as a group marker); a
 * missing display name is taken from a comment (`joe@example.org (Joe)`).
 */
import { type MailboxAddress, parseAddressList as parseRfc5322AddressList } from '@delegato/sasl';

export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

export const MISSING_HOST = '.MISSING-HOST-NAME.';

function envelopeMailbox(m: MailboxAddress): EnvelopeAddress {
  return { name: m.name, adl: m.route, mailbox: m.localPart, host: m.domain ?? MISSING_HOST };
}

/** Parses an address list header value (unfolded, latin1) into ENVELOPE addresses. */
export function parseAddressList(text: string): EnvelopeAddress[] {
  const out: EnvelopeAddress[] = [];
  for (const a of parseRfc5322AddressList(text).addresses) {
    if (a.kind === 'mailbox') {
      out.push(envelopeMailbox(a));
      continue;
    }
    out.push({ name: null, adl: null, mailbox: a.name, host: null });
    for (const m of a.members) out.push(envelopeMailbox(m));
    out.push({ name: null, adl: null, mailbox: null, host: null });
  }
  return out;
}
