/**
 * Every limit of an IMAP connection, named, with its default and where it comes from. Servers take a
 * `Partial<ImapLimits>`; what is not given keeps its default.
 */
export interface ImapLimits {
  /**
   * Longest line of a command (the text between literals), CRLF included. RFC 9051 §4 sets no limit;
   * RFC 7162 §4 asks servers to accept lines of at least 8192 octets. 64 KiB, as Dovecot.
   */
  maxLineLength: number;
  /** Largest literal of an APPEND: the message size limit of the store. */
  maxLiteralSize: number;
  /** Largest command other than APPEND, literals included. */
  maxCommandSize: number;
  /**
   * Largest command, literals included, before login (APPEND too): what a client that has not logged in
   * can make the server hold for one command. LOGIN with the longest identity and password fits, and so
   * does the largest ID an RFC 2971 §3.3 client may send (30 field-value pairs of 1,024-octet strings,
   * about 62 KiB quoted; imaptest's `id` group sends exactly that). Never more than `maxCommandSize`.
   */
  maxCommandSizeBeforeLogin: number;
  /** Deepest nesting of parenthesised lists in a command. */
  maxNesting: number;
  /** Most arguments (atoms, strings, lists, at every level) in one command. */
  maxArguments: number;
  /** Bad commands (BAD responses) before the connection is closed with BYE. */
  maxBadCommands: number;
  /**
   * Inactivity before an authenticated connection is closed. RFC 9051 §5.4: the autologout timer "MUST
   * be of at least 30 minutes duration".
   */
  idleTimeoutMs: number;
  /** Inactivity before a connection that has not logged in is closed (RFC 9051 §5.4 allows shorter). */
  loginTimeoutMs: number;
  /**
   * An IDLE command lasting longer than this ends the connection. RFC 2177 §3: clients re-issue IDLE at
   * least every 29 minutes.
   */
  idleCommandTimeoutMs: number;
  /** While idling, `* OK Still here` is sent this often (keeps NAT mappings alive; Dovecot's 2 minutes). */
  idleKeepaliveMs: number;
  /** A TLS handshake (implicit TLS or after STARTTLS) must complete within this time. */
  tlsHandshakeTimeoutMs: number;
  /** Unprocessed input buffered (pipelined commands) before the server stops reading from the socket. */
  maxBufferedInput: number;
  /** Round trips of one SASL exchange before it is refused (every mechanism we have needs at most 3). */
  maxSaslSteps: number;
  /** Longest AUTHENTICATE continuation line (a base64 SASL response), CRLF included. */
  maxAuthLineLength: number;
  /** Bytes of message bodies and parsed MIME structures kept in the server's LRU cache. */
  messageCacheBytes: number;
  /**
   * Bytes of per-body summaries (ENVELOPE, BODY, BODYSTRUCTURE wire text) kept in memory besides the mail
   * store's copy: about 600 octets per plain message, so the default holds some 50,000.
   */
  summaryCacheBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ImapLimits> = Object.freeze({
  maxLineLength: 64 * 1024,
  maxLiteralSize: 50 * 1024 * 1024,
  maxCommandSize: 1024 * 1024,
  maxCommandSizeBeforeLogin: 64 * 1024,
  maxNesting: 32,
  maxArguments: 10_000,
  maxBadCommands: 20,
  idleTimeoutMs: 30 * 60_000,
  loginTimeoutMs: 3 * 60_000,
  idleCommandTimeoutMs: 31 * 60_000,
  idleKeepaliveMs: 2 * 60_000,
  tlsHandshakeTimeoutMs: 30_000,
  maxBufferedInput: 256 * 1024,
  maxSaslSteps: 8,
  maxAuthLineLength: 16 * 1024,
  messageCacheBytes: 64 * 1024 * 1024,
  summaryCacheBytes: 32 * 1024 * 1024,
});

export function resolveLimits(limits: Partial<ImapLimits> | undefined): ImapLimits {
  const out: ImapLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ImapLimits)[]) {
    const v = limits?.[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`imap limits.${key} must be a positive integer`);
    out[key] = v;
  }
  if (out.maxLineLength < 1024) throw new RangeError('imap limits.maxLineLength must be at least 1024');
  if (out.maxCommandSize < out.maxLineLength) {
    throw new RangeError('imap limits.maxCommandSize must be at least maxLineLength');
  }
  return out;
}
