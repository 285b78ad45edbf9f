/**
 * CAPA: RFC 2449 §5. The same list in both states (RFC 2449 §5: capabilities of the AUTHORIZATION
 * state are announced in TRANSACTION too), adjusted to the connection: USER and the plain-text SASL
 * mechanisms only where they would be accepted, STLS only before TLS (RFC 2595 §4).
 */
import { command, type Pop3Context } from '../context.js';
import { splitArguments } from '../parser.js';
import { TEXT } from '../replies.js';
import { offeredMechanisms } from './auth.js';

export function capabilities(ctx: Pick<Pop3Context, 'secure' | 'tls' | 'services'>): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (ctx.secure) caps.push('USER');
  const mechanisms = offeredMechanisms(ctx);
  if (mechanisms.length > 0) caps.push(`SASL ${mechanisms.join(' ')}`);
  if (!ctx.tls) caps.push('STLS');
  caps.push(`IMPLEMENTATION ${ctx.services.implementation}`);
  return caps;
}

export const capa = command({
  name: 'CAPA',
  states: ['AUTHORIZATION', 'TRANSACTION'],
  parse(rest) {
    splitArguments(rest, 0, 0);
    return {};
  },
  async handle(ctx) {
    await ctx.multiline(TEXT.capabilities, capabilities(ctx));
  },
});
