/**
 * LSUB reference pattern: RFC 3501 §6.3.9 (deprecated by RFC 9051, still used). The subscribed names
 * matching; a parent that is not subscribed but has subscribed children matching a `%` is returned with
 * \Noselect.
 */
import { FOLDER_DELIMITER } from '../backend.js';
import { command } from '../context.js';
import { folderTree, joinReference, patternMatcher } from '../mailbox/list.js';
import { ArgReader, decodeMailboxName } from '../parser/args.js';
import { quoted } from '../wire.js';

export const lsub = command({
  name: 'LSUB',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const ref = r.astringBytes('reference');
    const pat = r.astringBytes('mailbox pattern');
    r.end();
    const decode = (b: Buffer) => (b.length === 0 ? '' : decodeMailboxName(b, env));
    return { reference: decode(ref), pattern: decode(pat) };
  },
  async handle(ctx, { reference, pattern }) {
    if (pattern === '') {
      await ctx.untagged(`LSUB (\\Noselect) ${quoted(FOLDER_DELIMITER)} ""`);
      return undefined;
    }
    const { backend } = ctx.services;
    const folders = await backend.listFolders(ctx.user.id);
    // Subscriptions outlive their folders (RFC 3501 §6.3.6): listed, \Noselect.
    const orphans = await backend.subscriptionsWithoutFolder(ctx.user.id);
    const matches = patternMatcher(joinReference(reference, pattern));
    for (const entry of folderTree(folders, orphans)) {
      if (!matches(entry.name)) continue;
      const subscribed = entry.subscribed;
      if (!subscribed && !(entry.subscribedChild && pattern.endsWith('%'))) continue;
      const attrs = subscribed && entry.folder !== null ? '' : '\\Noselect';
      await ctx.untagged([`LSUB (${attrs}) ${quoted(FOLDER_DELIMITER)} `, ctx.mailboxName(entry.name)]);
    }
    return undefined;
  },
});
