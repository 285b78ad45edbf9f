/** Trace fields added on delivery: Return-Path (RFC 5321 §4.4) and Received (RFC 5321 §4.4, RFC 3848). */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 §3.3 date-time in UTC: `Sat, 28 Nov 2026 15:57:17 +0000`. */
export function rfc5322Date(d: Date): string {
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}

export interface TraceInfo {
  /** MAIL FROM address; empty for the null sender. */
  sender: string;
  helo: string;
  clientAddress: string;
  clientHostname?: string;
  /** Our host name. */
  by: string;
  id: string;
  /** TLS protocol and cipher when the session was encrypted. */
  tls?: { version?: string; cipher?: string };
  /** Authenticated user (submission). */
  user?: string;
  /** The one recipient, when there is exactly one (RFC 5321 §4.4: `for` with one recipient only). */
  for?: string;
  date: Date;
}

/** RFC 3848 protocol names: ESMTP, ESMTPS (TLS), ESMTPA (AUTH), ESMTPSA (both). */
export function withProtocol(t: Pick<TraceInfo, 'tls' | 'user'>): string {
  return `ESMTP${t.tls ? 'S' : ''}${t.user ? 'A' : ''}`;
}

/** Strips characters that could break a header or a comment. */
function clean(s: string): string {
  return s.replace(/[\r\n\t()\\"]/g, '').slice(0, 255);
}

export function traceHeaders(t: TraceInfo): string {
  const host = t.clientHostname && t.clientHostname !== t.clientAddress ? clean(t.clientHostname) : 'unknown';
  const lines = [
    `Return-Path: <${clean(t.sender)}>`,
    `Received: from ${clean(t.helo) || 'unknown'} (${host} [${clean(t.clientAddress)}])`,
    `\tby ${clean(t.by)} (Delegato) with ${withProtocol(t)} id ${clean(t.id)}`,
  ];
  if (t.tls)
    lines.push(`\t(using ${clean(t.tls.version ?? 'TLS')} with cipher ${clean(t.tls.cipher ?? 'unknown')})`);
  if (t.user) lines.push(`\t(authenticated as ${clean(t.user)})`);
  if (t.for) lines.push(`\tfor <${clean(t.for)}>`);
  // received-token ";" date-time (RFC 5321 §4.4)
  lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(t.date)}`);
  return `${lines.join('\r\n')}\r\n`;
}
