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
import { decodeBase64Strict, parseMechanismName, saslExchange } from '@delegato/sasl';
import { PLAINTEXT_MECHANISMS } from '../capabilities.js';
import { command } from '../context.js';
import { badCommand, ERRORS, refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';
import { logAuthFailure } from './login-outcome.js';
import { finishLogin } from './proxy-login.js';

/** RFC 4422 §3.1: SASL mechanism names are 1..20 of A-Z 0-9 - _. */
const MECHANISM_NAME = /^[A-Za-z0-9_-]{1,20}$/;

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
        await ctx.continuation(base64);
        const response = await ctx.readLine(limits.maxAuthLineLength);
        return response === null ? null : response.trim();
      },
    });
    return finishLogin(ctx, outcome);
  },
});
