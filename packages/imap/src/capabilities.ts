/**
 * The CAPABILITY list (RFC 9051 §7.2.2) for a connection's state: before authentication only what a
 * client needs to log in (STARTTLS, AUTH=, LOGINDISABLED), after it the extensions.
 */
import type { SaslMechanismName } from '@delegato/sasl';
import type { SessionState } from './context.js';

/** Mechanisms that send the password itself: not offered without TLS (RFC 9051 §6.2.2, RFC 8314). */
export const PLAINTEXT_MECHANISMS: ReadonlySet<SaslMechanismName> = new Set(['PLAIN', 'LOGIN']);

/** Extensions advertised after authentication. */
export const EXTENSIONS = [
  'ID', // RFC 2971
  'ENABLE', // RFC 5161
  'IDLE', // RFC 2177
  'NAMESPACE', // RFC 2342
  'UIDPLUS', // RFC 4315
  'MOVE', // RFC 6851
  'UNSELECT', // RFC 3691
  'SPECIAL-USE', // RFC 6154
  'CREATE-SPECIAL-USE', // RFC 6154 §3
  'CHILDREN', // RFC 3348
  'LIST-EXTENDED', // RFC 5258
  'LIST-STATUS', // RFC 5819
  'QUOTA', // RFC 9208
  'QUOTA=RES-STORAGE', // RFC 9208 §5.1
  'CONDSTORE', // RFC 7162
  'QRESYNC', // RFC 7162
  'STATUS=SIZE', // RFC 8438
  'BINARY', // RFC 3516
  'ESEARCH', // RFC 4731
  'SEARCHRES', // RFC 5182
  'SORT', // RFC 5256
  'SORT=DISPLAY', // RFC 5957
  'THREAD=ORDEREDSUBJECT', // RFC 5256
  'THREAD=REFERENCES', // RFC 5256
  'ESORT', // RFC 5267 §3
  'CONTEXT=SEARCH', // RFC 5267 §4: UPDATE, CANCELUPDATE, PARTIAL
] as const;

export interface CapabilityInput {
  state: SessionState;
  tls: boolean;
  secure: boolean;
  mechanisms: readonly SaslMechanismName[];
}

export function offeredMechanisms(
  secure: boolean,
  mechanisms: readonly SaslMechanismName[],
): SaslMechanismName[] {
  return mechanisms.filter((m) => secure || !PLAINTEXT_MECHANISMS.has(m));
}

export function capabilities(input: CapabilityInput): string[] {
  // RFC 9051 §7.2.2: a server may offer both; IMAP4rev2 applies once the client ENABLEs it.
  const caps = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'LITERAL+'];
  if (input.state === 'not-authenticated') {
    caps.push('ID', 'ENABLE', 'IDLE');
    if (!input.tls) caps.push('STARTTLS');
    for (const m of offeredMechanisms(input.secure, input.mechanisms)) caps.push(`AUTH=${m}`);
    // RFC 9051 §6.2.3: LOGIN is refused until TLS is active.
    if (!input.secure) caps.push('LOGINDISABLED');
    return caps;
  }
  caps.push(...EXTENSIONS);
  return caps;
}
