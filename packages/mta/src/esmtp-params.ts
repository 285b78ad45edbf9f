/**
 * MAIL FROM / RCPT TO parameters (RFC 5321 §4.1.2 `Mail-parameters`, `Rcpt-parameters`) that smtp-server
 * leaves to the application:
 *
 * - a parameter of no extension we offer is refused with `555 5.5.4` (RFC 5321 §4.1.1.11, §4.1.1.3;
 *   RFC 3463 X.5.4 "invalid command arguments"); the library accepts any name;
 * - `ENVID`, `ORCPT` and `AUTH` values are xtext (RFC 3461 §4, RFC 4954 §5): a malformed one is a syntax
 *   error in the parameters, `501 5.5.4` (RFC 3461 §4: "a syntax error").
 *
 * The library has already checked what it knows (duplicates, missing values, SIZE, BODY, SMTPUTF8,
 * REQUIRETLS, RET, NOTIFY, the shape of ORCPT) when these run; the values here are the raw ones
 * (`rawParameters`), since the library decodes xtext and keeps a malformed `+` sequence as it is.
 */
import { replyError, type SmtpReplyError } from './replies.js';

/**
 * MAIL FROM parameters of the extensions we advertise: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8
 * (RFC 6531), REQUIRETLS (RFC 8689; the library refuses it without TLS), RET and ENVID (RFC 3461).
 * AUTH (RFC 4954 §5) only where AUTH is offered.
 */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'REQUIRETLS', 'RET', 'ENVID']);
/** RCPT TO parameters: NOTIFY and ORCPT (RFC 3461 §4.1, §4.2). */
const RCPT_PARAMETERS = new Set(['NOTIFY', 'ORCPT']);

/**
 * RFC 3461 §4: `xtext = *( xchar / hexchar )`, `xchar` any of `!`..`~` except `+` and `=`, `hexchar` a
 * `+` and two upper-case hex digits.
 */
const XTEXT = /^(?:[!-*,-<>-~]|\+[0-9A-F]{2})*$/;
/** RFC 6533 §3: an ORCPT of addr-type `utf-8` may carry UTF-8 (utf-8-addr-unitext) as well as xtext. */
const UTF8_ADDR = /^(?:[!-*,-<>-~\u0080-\u{10FFFF}]|\+[0-9A-F]{2})*$/u;
/** RFC 3461 §4.2: `original-recipient-address = addr-type ";" xtext`, addr-type an atom (RFC 5322). */
const ORCPT = /^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+);(.+)$/;

export function isXtext(value: string): boolean {
  return XTEXT.test(value);
}

function unknown(params: Record<string, string | true>, known: Set<string>): string | undefined {
  return Object.keys(params).find((name) => !known.has(name));
}

/** The refusal for MAIL FROM's parameters, or undefined when they are fine. */
export function checkMailParameters(
  params: Record<string, string | true>,
  opts: { authOffered: boolean },
): SmtpReplyError | undefined {
  const known = opts.authOffered ? new Set([...MAIL_PARAMETERS, 'AUTH']) : MAIL_PARAMETERS;
  const other = unknown(params, known);
  if (other !== undefined) return replyError('parameterNotRecognized', other);
  for (const name of ['ENVID', 'AUTH'] as const) {
    const value = params[name];
    if (typeof value === 'string' && !isXtext(value)) return replyError('badParameterSyntax', name);
  }
  return undefined;
}

/** The refusal for RCPT TO's parameters, or undefined when they are fine. */
export function checkRcptParameters(params: Record<string, string | true>): SmtpReplyError | undefined {
  const other = unknown(params, RCPT_PARAMETERS);
  if (other !== undefined) return replyError('parameterNotRecognized', other);
  const orcpt = params.ORCPT;
  if (typeof orcpt === 'string') {
    const m = ORCPT.exec(orcpt);
    const type = m?.[1]?.toLowerCase();
    const value = m?.[2] ?? '';
    if (!m || !(type === 'utf-8' ? UTF8_ADDR.test(value) : isXtext(value)))
      return replyError('badParameterSyntax', 'ORCPT');
  }
  return undefined;
}
