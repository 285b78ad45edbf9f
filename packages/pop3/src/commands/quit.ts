/**
 * QUIT: RFC 1939 §4 (AUTHORIZATION: just close) and §6 (TRANSACTION: the UPDATE state removes the
 * messages marked as deleted, then closes). Removal is \Deleted plus an expunge of exactly those UIDs,
 * so messages another client flagged \Deleted meanwhile are left to that client. Messages retrieved with
 * RETR get \Seen, as IMAP clients then show them.
 */

import { logEventAt } from '@delegato/observability';
import { command } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error, TEXT } from '../replies.js';

const INBOX = 'INBOX';

export const quit = command({
  name: 'QUIT',
  states: ['AUTHORIZATION', 'TRANSACTION'],
  parse(rest) {
    if (rest.trim().length > 0) throw new ArgumentError('QUIT takes no argument');
    return {};
  },
  async handle(ctx) {
    if (ctx.state === 'AUTHORIZATION') {
      ctx.ok(TEXT.bye);
      ctx.end();
      return;
    }
    const drop = ctx.maildrop;
    const userId = ctx.user.id;
    const { backend } = ctx.services;
    ctx.enterUpdate();
    const deleted = drop.deletedUids();
    if (deleted.length > 0) {
      try {
        await backend.storeFlags(userId, INBOX, deleted, 'add', ['\\Deleted']);
        await backend.expunge(userId, INBOX, deleted);
      } catch (error) {
        logEventAt(
          ctx.log,
          'error',
          'pop3.error',
          { err: error },
          'pop3 UPDATE: removing deleted messages failed',
        );
        // RFC 1939 §6: "-ERR some deleted messages not removed"; the session closes after UPDATE anyway.
        throw pop3Error('updateFailed');
      }
    }
    const seen = drop.retrievedUids();
    if (seen.length > 0) {
      // Best effort: the client has its messages; a flag not set is no reason to report failure.
      await backend.storeFlags(userId, INBOX, seen, 'add', ['\\Seen']).catch((error: unknown) => {
        logEventAt(ctx.log, 'warn', 'pop3.error', { err: error }, 'pop3 UPDATE: setting \\Seen failed');
      });
    }
    ctx.ok(`${TEXT.bye} (${deleted.length} messages deleted)`);
    ctx.end();
  },
});
