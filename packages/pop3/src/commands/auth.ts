/**
 * AUTH [mechanism [initial-response]]: RFC 5034 through the shared SASL layer (`@delegato/sasl`).
 *
 *   C: AUTH SCRAM-SHA-256 <b64>      initial response (RFC 5034 §4; "=" is an empty one)
 *   S: + <b64>                       challenge ("+ " then base64, possibly empty)
 *   C: <b64> | *                     response, or "*" to abort (-ERR)
 *   S: + <b64>                       additional data with success (SCRAM's v=), sent as a challenge ...
 *   C:                               ... answered by an empty line (RFC 5034 §4 / RFC 4422 §5)
 *   S: +OK                           (or -ERR [AUTH], [LOGIN-DELAY], [IN-USE])
 *
 * Without a mechanism, AUTH lists the mechanisms (what RFC 1734-era clients such as Outlook probe with).
 * PLAIN and LOGIN are refused, and not listed, on an insecure connection (RFC 2595 §2.1).
 */
import { createSaslSession, parseMechanismName, type SaslMechanismName, type SaslStep } from '@delegato/sasl';
import { command, type Pop3Context } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error, TEXT } from '../replies.js';

/** Mechanisms that send the password itself. */
const PLAINTEXT_MECHANISMS: ReadonlySet<SaslMechanismName> = new Set(['PLAIN', 'LOGIN']);
/** RFC 4422 §3.1: SASL mechanism names are 1..20 of A-Z 0-9 - _. */
const MECHANISM_NAME = /^[A-Za-z0-9_-]{1,20}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The mechanisms this connection may use, in configured order (CAPA's SASL line, AUTH without argument). */
export function offeredMechanisms(ctx: Pick<Pop3Context, 'secure' | 'services'>): SaslMechanismName[] {
  return ctx.services.mechanisms.filter((m) => ctx.secure || !PLAINTEXT_MECHANISMS.has(m));
}

/** Strict base64 (RFC 4648 §4, padding required), or null. */
export function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export interface AuthArgs {
  /** Null: list the mechanisms. */
  mechanism: string | null;
  initialResponse: Buffer | undefined;
}

export const auth = command<AuthArgs>({
  name: 'AUTH',
  states: ['AUTHORIZATION'],
  parse(rest) {
    const parts = rest.split(' ').filter((p) => p.length > 0);
    if (parts.length === 0) return { mechanism: null, initialResponse: undefined };
    if (parts.length > 2) throw new ArgumentError('Too many arguments');
    const [mechanism = '', ir] = parts;
    if (!MECHANISM_NAME.test(mechanism)) throw new ArgumentError('Invalid mechanism name');
    if (ir === undefined) return { mechanism, initialResponse: undefined };
    if (ir === '=') return { mechanism, initialResponse: Buffer.alloc(0) };
    const initialResponse = decodeBase64(ir);
    if (!initialResponse) throw pop3Error('invalidBase64');
    return { mechanism, initialResponse };
  },
  async handle(ctx, { mechanism, initialResponse }) {
    if (mechanism === null) {
      await ctx.multiline(TEXT.mechanisms, offeredMechanisms(ctx));
      return;
    }
    const name = parseMechanismName(mechanism);
    if (!name || !ctx.services.mechanisms.includes(name)) throw pop3Error('unsupportedMechanism');
    if (PLAINTEXT_MECHANISMS.has(name) && !ctx.secure) throw pop3Error('plaintextDisallowed');
    ctx.pendingUser = null;
    const { credentials, hostname, rateLimiter, limits } = ctx.services;
    const sasl = createSaslSession(name, {
      store: credentials,
      hostname,
      rateLimit: rateLimiter ? { limiter: rateLimiter, address: ctx.remoteAddress } : undefined,
    });
    let step: SaslStep = await sasl.start(initialResponse);
    for (let round = 1; ; round++) {
      if (step.kind === 'failure') {
        if (step.retryAfterMs !== undefined) {
          ctx.log?.info(
            {
              event: 'pop3.auth_failed',
              user: step.login,
              client: ctx.remoteAddress,
              mechanism: name,
              reason: 'rate-limited',
            },
            'pop3 authentication refused',
          );
          throw pop3Error('loginDelay');
        }
        if (step.reason === 'aborted') throw pop3Error('authAborted');
        // Wrong credentials and malformed exchanges look the same to the client (no oracle). The log
        // has the authentication identity the client claimed, never the secret.
        ctx.log?.info(
          { event: 'pop3.auth_failed', user: step.login, client: ctx.remoteAddress, mechanism: name },
          'pop3 authentication failed',
        );
        throw pop3Error('authFailed');
      }
      if (round > limits.maxSaslSteps) throw pop3Error('authFailed');
      const data = step.kind === 'success' ? step.final : step.data;
      if (step.kind === 'success' && data === undefined) {
        await ctx.login(step.user);
        return;
      }
      ctx.sendLine(`+ ${(data ?? Buffer.alloc(0)).toString('base64')}`);
      const line = await ctx.readContinuation();
      if (line === null) return;
      if (line === '*') throw pop3Error('authAborted');
      if (step.kind === 'success') {
        // The client acknowledged the additional data (it should send an empty line).
        await ctx.login(step.user);
        return;
      }
      const response = decodeBase64(line);
      if (!response) throw pop3Error('invalidBase64');
      step = await sasl.next(response);
    }
  },
});
