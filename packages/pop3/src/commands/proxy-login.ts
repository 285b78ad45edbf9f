/**
 * The end of a successful PASS or AUTH for a mailbox homed in another region (decision 0010): the session
 * becomes a byte pipe to the home region, whose first line (`+OK Logged in, …` of its maildrop, or
 * `-ERR [IN-USE] …`) is the answer the client gets. The home region unreachable: `-ERR [SYS/TEMP]`
 * (RFC 3206), and the login is not counted as a failed one. Mailboxes homed here, and failed logins, go
 * through `completeLogin` as before.
 */
import { type ProxyChannel, pipeSessions } from '@delegato/mail-core';
import type { LoginOutcome } from '@delegato/sasl';
import type { Pop3Context } from '../context.js';
import { pop3Error } from '../replies.js';
import { completeLogin } from './login-outcome.js';

export async function finishLogin(ctx: Pop3Context, outcome: LoginOutcome): Promise<void> {
  const proxy = ctx.services.proxy;
  if (outcome.kind !== 'success' || !proxy) return completeLogin(ctx, outcome);
  const { user } = outcome;
  const region = await proxy.homeOf(user);
  if (region === null) return completeLogin(ctx, outcome);
  let channel: ProxyChannel;
  try {
    channel = await proxy.open(region, 'pop3', user, ctx.remoteAddress);
  } catch {
    throw pop3Error('homeUnavailable');
  }
  if (channel.firstLine.startsWith('-ERR [IN-USE]')) {
    channel.stream.destroy();
    throw pop3Error('inUse');
  }
  if (!channel.firstLine.startsWith('+OK')) {
    channel.stream.destroy();
    throw pop3Error('homeUnavailable');
  }
  const { socket, pending } = ctx.handOver();
  socket.write(`${channel.firstLine}\r\n`);
  const info = { region, protocol: 'pop3' as const, user, client: ctx.remoteAddress };
  proxy.started?.(info);
  pipeSessions(socket, channel.stream, (counts) => proxy.ended?.({ ...info, ...counts }), pending);
}
