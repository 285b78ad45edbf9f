/**
 * AUTHENTICATE mechanism [initial-response]: RFC 9051 §6.2.2 with SASL-IR (RFC 4959), through the shared
 * SASL layer (`@delegato/sasl`).
 *
 *   C: A1 AUTHENTICATE SCRAM-SHA-256 <b64>   initial response ("=" is an empty one)
 *   S: + <b64>                               challenge ("+ " and base64, possibly empty)
 *   C: <b64> | *                             response, or "*" to cancel (tagged BAD)
 *   S: + <b64>                               additional data with success (SCRAM's v=) as a challenge ...
 *   C:                                       ... answered by an empty line
 *   S: A1 OK [CAPABILITY ...] Logged in
 *
 * PLAIN and LOGIN are refused on an insecure connection (not advertised either). Payloads are never
 * logged.
 */
import { type AuthenticatedUser, createSaslSession, parseMechanismName, type SaslStep } from '@delegato/sasl';
import { PLAINTEXT_MECHANISMS } from '../capabilities.js';
import { command } from '../context.js';
import { badCommand, ERRORS, refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

/** RFC 4422 §3.1: SASL mechanism names are 1..20 of A-Z 0-9 - _. */
const MECHANISM_NAME = /^[A-Za-z0-9_-]{1,20}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (RFC 4648 §4, padding required), or null. */
export function decodeBase64Strict(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

export const authenticate = command({
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  parse(args) {
    const r = new ArgReader(args);
    const mechanism = r.atom('mechanism');
    if (!MECHANISM_NAME.test(mechanism)) throw badCommand('Invalid mechanism name');
    let initialResponse: Buffer | undefined;
    if (r.remaining > 0) {
      const ir = r.atom('initial response');
      if (ir === '=') initialResponse = Buffer.alloc(0);
      else {
        const decoded = decodeBase64Strict(ir);
        if (!decoded) throw badCommand('Invalid base64 data in initial response');
        initialResponse = decoded;
      }
    }
    r.end();
    return { mechanism, initialResponse };
  },
  async handle(ctx, { mechanism, initialResponse }) {
    const name = parseMechanismName(mechanism);
    if (!name || !ctx.services.mechanisms.includes(name)) {
      throw refused(null, 'Unsupported authentication mechanism.');
    }
    if (PLAINTEXT_MECHANISMS.has(name) && !ctx.secure) throw ERRORS.plaintextDisallowed();
    const { credentials, hostname, rateLimiter, limits } = ctx.services;
    const sasl = createSaslSession(name, {
      store: credentials,
      hostname,
      rateLimit: rateLimiter ? { limiter: rateLimiter, address: ctx.remoteAddress } : undefined,
    });
    let step: SaslStep = await sasl.start(initialResponse);
    let user: AuthenticatedUser;
    for (let round = 1; ; round++) {
      if (step.kind === 'failure') {
        if (step.retryAfterMs !== undefined) {
          ctx.log?.info(
            {
              event: 'imap.auth_failed',
              user: step.login,
              client: ctx.remoteAddress,
              mechanism: name,
              reason: 'rate-limited',
            },
            'imap authentication refused',
          );
          throw ERRORS.loginDelay();
        }
        if (step.reason === 'aborted') throw ERRORS.authAborted();
        // Wrong credentials and malformed exchanges look the same to the client (no oracle). The log
        // has the authentication identity the client claimed, never the secret.
        ctx.log?.info(
          { event: 'imap.auth_failed', user: step.login, client: ctx.remoteAddress, mechanism: name },
          'imap authentication failed',
        );
        throw ERRORS.authFailed();
      }
      if (round > limits.maxSaslSteps) throw ERRORS.authFailed();
      const data = step.kind === 'success' ? step.final : step.data;
      if (step.kind === 'success' && data === undefined) {
        user = step.user;
        break;
      }
      await ctx.continuation((data ?? Buffer.alloc(0)).toString('base64'));
      const response = await ctx.readLine(limits.maxAuthLineLength);
      if (response === null) return { answered: true };
      if (response.trim() === '*') throw ERRORS.authAborted();
      if (step.kind === 'success') {
        user = step.user;
        break;
      }
      const decoded = decodeBase64Strict(response.trim());
      if (!decoded) throw badCommand('Invalid base64 data in continued response');
      step = await sasl.next(decoded);
    }
    await ctx.login(user);
    return { code: `CAPABILITY ${ctx.capabilities().join(' ')}`, text: 'Logged in' };
  },
});
