/**
 * What LOGIN and AUTHENTICATE share: the log line of a failed attempt and the one mapping from a login's
 * outcome (`passwordLogin` / `saslExchange` of `@delegato/sasl`) to IMAP's answer (RFC 9051 §6.2).
 */

import { logEvent } from '@delegato/observability';
import type { LoginFailure, LoginOutcome } from '@delegato/sasl';
import type { Completion, ImapContext } from '../context.js';
import { badCommand, ERRORS } from '../errors.js';

/** Logs a failed attempt: the identity claimed and the client, never the secret. */
export function logAuthFailure(ctx: ImapContext, what: 'login' | 'authentication') {
  return (f: LoginFailure): void => {
    logEvent(
      ctx.log,
      'imap.auth_failed',
      {
        user: f.login,
        client: ctx.remoteAddress,
        mechanism: f.mechanism,
        ...(f.reason ? { reason: f.reason } : {}),
      },
      `imap ${what} ${f.reason ? 'refused' : 'failed'}`,
    );
  };
}

/** Logs in on success (the tagged OK carries the new capabilities, RFC 9051 §6.2.3); throws otherwise. */
export async function completeLogin(ctx: ImapContext, outcome: LoginOutcome): Promise<Completion> {
  switch (outcome.kind) {
    case 'success':
      await ctx.login(outcome.user);
      return { code: `CAPABILITY ${ctx.capabilities().join(' ')}`, text: 'Logged in' };
    case 'rate-limited':
      throw ERRORS.loginDelay();
    case 'aborted':
      throw ERRORS.authAborted();
    case 'invalid-base64':
      throw badCommand('Invalid base64 data in continued response');
    case 'closed':
      return { answered: true };
    default:
      throw ERRORS.authFailed();
  }
}
