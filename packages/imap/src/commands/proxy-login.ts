/**
 * The end of a successful LOGIN or AUTHENTICATE for a mailbox homed in another region (decision 0010):
 * the session becomes a byte pipe to the home region, which greets the proxy with `* PREAUTH
 * [CAPABILITY …]`; the client gets the tagged OK with those capabilities, as after a local login. The home
 * region unreachable: `NO [UNAVAILABLE]` (RFC 5530), and the login is not counted as a failed one. Mailboxes
 * homed here, and failed logins, go through `completeLogin` as before.
 */
import { type ProxyChannel, pipeSessions } from '@delegato/mail-core';
import type { LoginOutcome } from '@delegato/sasl';
import type { Completion, ImapContext } from '../context.js';
import { ERRORS } from '../errors.js';
import { completeLogin } from './login-outcome.js';

const PREAUTH = /^\* PREAUTH (?:\[CAPABILITY ([^\]]*)\])?/i;

export async function finishLogin(ctx: ImapContext, outcome: LoginOutcome): Promise<Completion> {
  const proxy = ctx.services.proxy;
  if (outcome.kind !== 'success' || !proxy) return completeLogin(ctx, outcome);
  const { user } = outcome;
  const region = await proxy.homeOf(user);
  if (region === null) return completeLogin(ctx, outcome);
  let channel: ProxyChannel;
  try {
    channel = await proxy.open(region, 'imap', user, ctx.remoteAddress);
  } catch {
    throw ERRORS.homeUnavailable();
  }
  const m = PREAUTH.exec(channel.firstLine);
  if (!m) {
    channel.stream.destroy();
    throw ERRORS.homeUnavailable();
  }
  const { socket, pending } = ctx.handOver();
  socket.write(`${ctx.tag} OK ${m[1] ? `[CAPABILITY ${m[1]}] ` : ''}Logged in\r\n`);
  const info = { region, protocol: 'imap' as const, user, client: ctx.remoteAddress };
  proxy.started?.(info);
  pipeSessions(socket, channel.stream, (counts) => proxy.ended?.({ ...info, ...counts }), pending);
  return { answered: true };
}
