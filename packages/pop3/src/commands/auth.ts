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
import { decodeBase64Strict, parseMechanismName, type SaslMechanismName, saslExchange } from '@delegato/sasl';
import { command, type Pop3Context } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error, TEXT } from '../replies.js';
import { logAuthFailure } from './login-outcome.js';
import { finishLogin } from './proxy-login.js';

/** Mechanisms that send the password itself. */
const PLAINTEXT_MECHANISMS: ReadonlySet<SaslMechanismName> = new Set(['PLAIN', 'LOGIN']);
/** RFC 4422 §3.1: SASL mechanism names are 1..20 of A-Z 0-9 - _. */
const MECHANISM_NAME = /^[A-Za-z0-9_-]{1,20}$/;

/** The mechanisms this connection may use, in configured order (CAPA's SASL line, AUTH without argument). */
export function offeredMechanisms(ctx: Pick<Pop3Context, 'secure' | 'services'>): SaslMechanismName[] {
  return ctx.services.mechanisms.filter((m) => ctx.secure || !PLAINTEXT_MECHANISMS.has(m));
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
    const initialResponse = decodeBase64Strict(ir);
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
    const outcome = await saslExchange({
      mechanism: name,
      initialResponse,
      credentials,
      hostname,
      rateLimiter,
      address: ctx.remoteAddress,
      maxSteps: limits.maxSaslSteps,
      onFailure: logAuthFailure(ctx, 'authentication'),
      challenge: async (base64) => {
        ctx.sendLine(`+ ${base64}`);
        return ctx.readContinuation();
      },
    });
    await finishLogin(ctx, outcome);
  },
});
