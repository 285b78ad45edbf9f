/**
 * Every limit of a POP3 connection, named, with its default and the RFC it comes from. Servers take a
 * `Partial<Pop3Limits>`; what is not given keeps its default.
 */
export interface Pop3Limits {
  /**
   * Longest command line, in octets, CRLF included. RFC 2449 §4: "Commands ... MUST NOT exceed 255
   * octets, including the terminating CRLF".
   */
  maxLineLength: number;
  /** Longest AUTH continuation line (a base64 SASL response), CRLF included (RFC 5034 §4 sets no limit). */
  maxAuthLineLength: number;
  /** Bad commands (unknown, wrong state, bad syntax, too long) before the connection is closed. */
  maxBadCommands: number;
  /**
   * Inactivity before the connection is dropped without entering UPDATE. RFC 1939 §3: the autologout
   * timer "MUST be of at least 10 minutes' duration".
   */
  idleTimeoutMs: number;
  /** A TLS handshake (implicit TLS or after STLS) must complete within this time. */
  tlsHandshakeTimeoutMs: number;
  /** Unprocessed input buffered (pipelined commands) before the server stops reading from the socket. */
  maxBufferedInput: number;
  /** Round trips of one SASL exchange before it is refused (every mechanism we have needs at most 3). */
  maxSaslSteps: number;
}

export const DEFAULT_LIMITS: Readonly<Pop3Limits> = Object.freeze({
  maxLineLength: 255,
  maxAuthLineLength: 8 * 1024,
  maxBadCommands: 10,
  idleTimeoutMs: 10 * 60_000,
  tlsHandshakeTimeoutMs: 30_000,
  maxBufferedInput: 64 * 1024,
  maxSaslSteps: 8,
});

/** RFC 2449 §4: keywords are "up to 4 characters". Longer keywords are unknown commands. */
export const MAX_KEYWORD_LENGTH = 4;
/**
 * RFC 2449 §4: "Each argument may be up to 40 characters long". Applied to every argument except the
 * credentials of USER and PASS and AUTH's initial response, which only the line length bounds
 * (addresses and passwords are often longer than 40 characters).
 */
export const MAX_ARGUMENT_LENGTH = 40;
/** No POP3 command takes more than two arguments (TOP msg n, AUTH mechanism initial-response). */
export const MAX_ARGUMENTS = 2;

export function resolveLimits(limits: Partial<Pop3Limits> | undefined): Pop3Limits {
  const out: Pop3Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Pop3Limits)[]) {
    const v = limits?.[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`pop3 limits.${key} must be a positive integer`);
    out[key] = v;
  }
  if (out.maxLineLength < 16) throw new RangeError('pop3 limits.maxLineLength must be at least 16');
  return out;
}
