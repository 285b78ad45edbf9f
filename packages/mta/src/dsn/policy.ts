/**
 * When to send a DSN (RFC 3461 §4.1, §6.2) and which RFC 3463 status an SMTP reply stands for.
 */

/** RFC 3464 §2.3.3 action values. `expanded` is reported like a success (RFC 3461 §6.2.7.4). */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnPolicyInput {
  /** The original envelope sender; `''` is the null reverse-path. */
  sender: string;
  /** The recipient's RFC 3461 NOTIFY values (any case); absent when the client gave none. */
  notify?: string[];
  action: DsnAction;
  /** The original message is itself a delivery report (belt and braces: such mail has a null sender). */
  isDsn?: boolean;
}

/**
 * Whether a DSN is due for one recipient's outcome.
 *
 * - Never for the null sender (RFC 5321 §4.5.5, RFC 3461 §6.2: DSNs are sent with a null reverse-path, so a
 *   DSN never causes another one), nor for a message that is itself a DSN.
 * - NOTIFY=NEVER: never (it wins even in an invalid list such as `NEVER,FAILURE`).
 * - NOTIFY absent (or empty): failures and delays. RFC 3461 §4.1 leaves delays to the MTA; like Postfix we
 *   report them (the sender learns the message is stuck), but never successes or relays.
 * - An explicit list is honoured: SUCCESS → delivered/relayed/expanded, FAILURE → failed, DELAY → delayed.
 */
export function shouldSendDsn(opts: DsnPolicyInput): boolean {
  const sender = opts.sender.trim();
  if (sender === '' || sender === '<>') return false;
  if (opts.isDsn) return false;
  const notify = (opts.notify ?? []).map((n) => n.trim().toUpperCase()).filter((n) => n !== '');
  if (notify.includes('NEVER')) return false;
  if (notify.length === 0) return opts.action === 'failed' || opts.action === 'delayed';
  switch (opts.action) {
    case 'failed':
      return notify.includes('FAILURE');
    case 'delayed':
      return notify.includes('DELAY');
    case 'delivered':
    case 'relayed':
    case 'expanded':
      return notify.includes('SUCCESS');
  }
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Basic reply codes without an enhanced code (RFC 3463, RFC 5248 registry, RFC 7504). Codes whose meaning is
 * too broad to pin down (550 covers unknown users and policy refusals alike, 554 any failed transaction)
 * map to X.0.0 rather than a guess: bounce processors treat 5.1.1 as "remove this address".
 */
const BASIC: Record<number, string> = {
  421: '4.3.2', // service not available, closing channel: system not accepting network messages
  450: '4.2.0', // mailbox unavailable (busy, temporarily blocked)
  451: '4.3.0', // local error in processing
  452: '4.3.1', // insufficient system storage
  455: '4.5.4', // server unable to accommodate parameters
  500: '5.5.2', // syntax error, command unrecognised
  501: '5.5.4', // syntax error in parameters or arguments
  502: '5.5.1', // command not implemented
  503: '5.5.1', // bad sequence of commands
  504: '5.5.4', // command parameter not implemented
  521: '5.3.2', // host does not accept mail (RFC 7504)
  530: '5.7.0', // authentication required (RFC 4954)
  534: '5.7.9', // authentication mechanism too weak (RFC 4954)
  535: '5.7.8', // authentication credentials invalid (RFC 4954)
  538: '5.7.11', // encryption required for requested authentication mechanism (RFC 4954)
  551: '5.1.6', // user not local: mailbox has moved
  552: '5.2.2', // exceeded storage allocation
  553: '5.1.3', // mailbox name not allowed (syntax)
  555: '5.5.4', // MAIL/RCPT parameters not recognised
  556: '5.1.10', // domain does not accept mail (RFC 7504, null MX)
};

/**
 * The RFC 3463 status for an SMTP reply. A well-formed enhanced code is kept, but its class follows the
 * reply code (RFC 2034 §3: they must agree, and the reply code decides permanence): 550 with `4.2.2` gives
 * `5.2.2`. Without one, well-known reply codes map per the table above, other 2xx/4xx/5xx to X.0.0; any
 * other code (none, 1xx, 3xx, ≥600: the peer broke the protocol) gives 4.5.0, transient, so that the
 * message is retried rather than bounced on a misunderstanding.
 */
export function statusForReply(code: number, enhanced?: string): string {
  const cls = Number.isInteger(code) ? Math.floor(code / 100) : 0;
  if (cls !== 2 && cls !== 4 && cls !== 5) return '4.5.0';
  const m = enhanced === undefined ? null : ENHANCED.exec(enhanced.trim());
  if (m) return `${cls}.${Number(m[2])}.${Number(m[3])}`;
  if (cls === 2) return '2.0.0';
  return BASIC[code] ?? `${cls}.0.0`;
}
