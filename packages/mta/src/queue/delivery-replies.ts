/** Replies of delivery attempts: the remote server's, parsed, and the ones we choose ourselves (RFC 3463). */

/** An SMTP reply, the remote server's or one we chose (DNS, connection, expiry). */
export interface DeliveryReply {
  code: number;
  /** RFC 3463 enhanced status code, when the reply had one. */
  enhanced: string | null;
  /** The whole reply on one line, code first (RFC 3464 Diagnostic-Code `smtp;` value). */
  text: string;
}

function reply(code: number, enhanced: string, text: string): DeliveryReply {
  return { code, enhanced, text: `${code} ${enhanced} ${text}` };
}

/** The replies we choose ourselves, with their RFC 3463 codes. */
export const LOCAL = {
  /** RFC 7505 §4.1, RFC 7504: 556 5.1.10 the domain accepts no mail. */
  nullMx: (d: string) => reply(556, '5.1.10', `${d} does not accept mail (null MX)`),
  /** X.1.2: bad destination system address. */
  noDomain: (d: string) => reply(550, '5.1.2', `${d}: no such domain`),
  noAddress: (d: string) => reply(550, '5.1.2', `${d} has no MX and no address records`),
  badAddress: (a: string) => reply(553, '5.1.3', `${a}: bad destination mailbox address syntax`),
  /** X.4.3: directory (DNS) server failure. */
  dnsFailure: (what: string) => reply(451, '4.4.3', `DNS failure: ${what}`),
  /** X.4.4: unable to route. */
  mxNoAddress: (h: string) => reply(451, '4.4.4', `MX host ${h} has no address records`),
  noRegionRoute: (r: string) => reply(451, '4.4.4', `No route to region ${r}`),
  /** X.4.1: no answer from host; X.4.2: bad connection. */
  connection: (h: string, detail: string) => reply(451, '4.4.1', `${h}: ${detail}`),
  /** RFC 8689 §5: X.7.30 REQUIRETLS support required (transient until we give up). */
  requireTls: (h: string, detail: string) => reply(451, '4.7.30', `REQUIRETLS: ${h}: ${detail}`),
  /** X.7.5: cryptographic failure (the federation channel is TLS only). */
  tlsRequired: (h: string, detail: string) => reply(451, '4.7.5', `TLS failed with ${h}: ${detail}`),
  /** X.7.5 under an `enforce` MTA-STS policy (RFC 8461 §5.1: temporary until the queue gives up). */
  mtaSts: (d: string, detail: string) =>
    reply(451, '4.7.5', `MTA-STS policy of ${d} (enforce) requires TLS with a valid certificate: ${detail}`),
  /** X.7.5: no MX host of the domain is allowed by its `enforce` MTA-STS policy (RFC 8461 §4.1). */
  mtaStsNoMx: (d: string) =>
    reply(451, '4.7.5', `MTA-STS policy of ${d} (enforce) allows none of its MX hosts`),
  /** X.3.4: message too big for the remote host (its SIZE). */
  tooBig: (h: string) => reply(552, '5.3.4', `message too big for ${h}`),
  /** X.3.0: our own failure (spool file unreadable). */
  localError: (detail: string) => reply(451, '4.3.0', `local error: ${detail}`),
} as const;

/** Parses a reply line (`550 5.1.1 No such user`, possibly multi-line) into a DeliveryReply. */
export function parseReply(text: string): DeliveryReply {
  const one = text
    .split(/\r?\n/)
    .map((l, i) => (i === 0 ? l : l.replace(/^\d{3}[ -](?:\d\.\d{1,3}\.\d{1,3} )?/, '')))
    .join(' ')
    .replace(/^(\d{3})-/, '$1 ')
    .trim();
  const m = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3})(?=\s|$))?/.exec(one);
  return { code: m ? Number(m[1]) : 0, enhanced: m?.[2] ?? null, text: one };
}
