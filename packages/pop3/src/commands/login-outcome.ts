/**
 * What USER/PASS and AUTH share: the log line of a failed attempt and the one mapping from a login's
 * outcome (`passwordLogin` / `saslExchange` of `@delegato/sasl`) to POP3's answer (RFC 2449 §8, RFC 3206).
 */

import { logEvent } from '@delegato/observability';
import type { LoginFailure, LoginOutcome } from '@delegato/sasl';
import type { Pop3Context } from '../context.js';
import { pop3Error } from '../replies.js';

/** Logs a failed attempt: the identity claimed and the client, never the secret. */
export function logAuthFailure(ctx: Pop3Context, what: 'login' | 'authentication') {
  return (f: LoginFailure): void => {
    logEvent(
      ctx.log,
      'pop3.auth_failed',
      {
        user: f.login,
        client: ctx.remoteAddress,
        mechanism: f.mechanism,
        ...(f.reason ? { reason: f.reason } : {}),
      },
      `pop3 ${what} ${f.reason ? 'refused' : 'failed'}`,
    );
  };
}

/** Logs in on success (`+OK` with the maildrop's size); throws the `-ERR` otherwise. */
export async function completeLogin(ctx: Pop3Context, outcome: LoginOutcome): Promise<void> {
  switch (outcome.kind) {
    case 'success':
      return ctx.login(outcome.user);
    case 'rate-limited':
      throw pop3Error('loginDelay');
    case 'aborted':
      throw pop3Error('authAborted');
    case 'invalid-base64':
      throw pop3Error('invalidBase64');
    case 'closed':
      return;
    default:
      throw pop3Error('authFailed');
  }
}
