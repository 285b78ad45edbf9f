/**
 * UIDL [msg]: RFC 1939 §7. The unique-id is `uidValidity.uid`: persistent across sessions and restarts,
 * 1..70 characters of 0x21..0x7E, never reused (IMAP UIDs are not, within a UIDVALIDITY).
 */
import { command } from '../context.js';
import { parseMessageNumber, splitArguments } from '../parser.js';

export const uidl = command({
  name: 'UIDL',
  states: ['TRANSACTION'],
  parse(rest) {
    const [msg] = splitArguments(rest, 0, 1);
    return { msg: msg === undefined ? undefined : parseMessageNumber(msg) };
  },
  async handle(ctx, { msg }) {
    const drop = ctx.maildrop;
    if (msg !== undefined) {
      const m = drop.get(msg);
      ctx.ok(`${m.number} ${drop.uidl(m)}`);
      return;
    }
    await ctx.multiline(
      'Unique-ID listing follows',
      drop.live().map((m) => `${m.number} ${drop.uidl(m)}`),
    );
  },
});
