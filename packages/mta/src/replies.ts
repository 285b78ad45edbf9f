/**
 * Every SMTP reply the MTA chooses itself, as named constants carrying the RFC 5321 reply code and the
 * RFC 3463 enhanced status code (mox `smtp/codes.go` style). Never write a bare number elsewhere.
 */
export interface Reply {
  code: number;
  /** RFC 3463 class.subject.detail. */
  enhanced: string;
  text: string;
}

const r = (code: number, enhanced: string, text: string): Reply => ({ code, enhanced, text });

export const REPLIES = {
  /** RFC 3463 §3.2 X.1.1: bad destination mailbox address (unknown user). */
  unknownUser: r(550, '5.1.1', 'No such user here'),
  /** X.1.3: bad destination mailbox address syntax. */
  badRecipientSyntax: r(553, '5.1.3', 'Recipient address syntax not accepted'),
  /** X.1.4: destination mailbox address ambiguous. */
  ambiguous: r(550, '5.1.4', 'Ambiguous address, please use one of'),
  /** X.1.7: bad sender's mailbox address syntax. */
  badSenderSyntax: r(553, '5.1.7', 'Sender address syntax not accepted'),
  /** X.2.1: mailbox disabled, not accepting messages. */
  mailboxDisabled: r(550, '5.2.1', 'Mailbox disabled, not accepting messages'),
  /** X.2.2: mailbox full (temporary: the user may make room). */
  mailboxFull: r(452, '4.2.2', 'Mailbox full, try again later'),
  /** X.3.4: message too big for system. */
  messageTooBig: r(552, '5.3.4', 'Message size exceeds the fixed maximum message size'),
  /** X.5.3: too many recipients (RFC 5321 §4.5.3.1.8: at least 100 must be accepted). */
  tooManyRecipients: r(452, '4.5.3', 'Too many recipients'),
  /** X.7.1: delivery not authorized: relaying denied. */
  relayDenied: r(554, '5.7.1', 'Relay access denied'),
  /**
   * X.7.1: on the federation channel, a recipient whose domain is not homed in this region (a peer routes
   * only its home region's mail here; nothing is relayed further).
   */
  notHomedHere: r(550, '5.7.1', 'Not accepted on the federation channel: domain not homed in region'),
  /** X.7.0: a certificate of the federation CA that names no region (refused before the greeting). */
  notARegion: r(554, '5.7.0', 'Federation certificate names no region'),
  /** X.4.6: routing loop detected (RFC 5321 §6.3: too many Received fields). */
  tooManyHops: r(554, '5.4.6', 'Too many hops: routing loop detected'),
  /** X.7.0: the peer region's certificate is revoked (decision 0013). */
  revokedRegion: r(554, '5.7.0', 'Federation certificate revoked'),
  /** X.3.0: local error in processing (storage failed; the client retries). */
  localError: r(451, '4.3.0', 'Local error in processing, try again later'),
  /** X.3.0: the recipient's region could not be queued. */
  queueError: r(451, '4.3.0', 'Could not queue the message, try again later'),
  /**
   * X.5.3: more RCPT commands in one transaction than `maxRecipientCommands` (accepted, refused and repeated
   * ones alike; Postfix's smtpd_recipient_overshoot_limit): the session is closed.
   */
  tooManyRecipientCommands: r(421, '4.5.3', 'Too many recipient commands, closing connection'),
  /** X.7.0: too many refused recipients in one transaction (dictionary attack, flood): the session is closed. */
  tooManyRefused: r(421, '4.7.0', 'Too many refused recipients, closing connection'),
  /** X.4.7: delivery time expired / the client was too slow. */
  timeout: r(421, '4.4.2', 'Timeout, closing connection'),
  /** X.7.8: authentication credentials invalid (RFC 4954 §6). */
  authFailed: r(535, '5.7.8', 'Authentication credentials invalid'),
  /** X.7.0: temporary authentication failure: too many failed attempts (RFC 4954 §6). */
  authRateLimited: r(454, '4.7.0', 'Too many failed logins, try again later'),
  /**
   * X.7.0: the submission listener (MSA) takes MAIL only after AUTH, except from the internal networks
   * (RFC 6409 §4.3: "530 5.7.0 Authentication required"; RFC 4954 §6).
   */
  authRequired: r(530, '5.7.0', 'Authentication required'),
  /** X.5.1: AUTH is not offered on this listener. */
  authNotAvailable: r(502, '5.5.1', 'Authentication not available here'),
  /** X.7.1: an authenticated user used an address that is not theirs (RFC 6409 §6.1). */
  senderNotOwned: r(550, '5.7.1', 'Sender address not owned by the authenticated user:'),
  /** X.5.4: a MAIL/RCPT parameter of no extension we offer (RFC 5321 §4.1.1.11: 555). */
  parameterNotRecognized: r(555, '5.5.4', 'MAIL FROM/RCPT TO parameter not recognized or not implemented:'),
  /** X.5.4: a parameter value with bad syntax, such as malformed xtext in ENVID or ORCPT (RFC 3461 §4). */
  badParameterSyntax: r(501, '5.5.4', 'Syntax error in parameter:'),
  /** X.7.1: the sender may not post to the built-in list (lists/rules.ts); the reason follows. */
  listSenderRefused: r(550, '5.7.1', 'Not allowed to post:'),
  /** X.4.6: routing loop: the message carries this list's own List-Id or X-Loop (RFC 2919, lists/). */
  listLoop: r(554, '5.4.6', 'Mail loop detected: this message went through this list already'),
  /** X.5.3: a list takes a transaction of its own; the client sends this recipient again (RFC 5321 §4.5.3.1.10). */
  listAlone: r(452, '4.5.3', 'A list takes a transaction of its own: send this recipient again separately'),
  /** X.7.1: a message to `<list>-request@` that is no valid moderation reply; the reason follows. */
  moderationReply: r(550, '5.7.1', 'Not a valid moderation reply:'),
  /** X.6.0: message accepted. */
  accepted: r(250, '2.6.0', 'Message accepted'),
} as const satisfies Record<string, Reply>;

export type ReplyName = keyof typeof REPLIES;

/** An Error smtp-server turns into the reply (its message carries the enhanced code; see smtp-server-patch.ts). */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(
    readonly reply: Reply,
    detail?: string,
  ) {
    super(`${reply.enhanced} ${reply.text}${detail ? ` ${detail}` : ''}`);
    this.responseCode = reply.code;
  }
}

export function replyError(name: ReplyName, detail?: string): SmtpReplyError {
  return new SmtpReplyError(REPLIES[name], detail);
}
