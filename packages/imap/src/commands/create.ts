/**
 * CREATE mailbox: RFC 9051 §6.3.4. A trailing delimiter only declares the intent to create children
 * (stripped); missing parents are created too ("SHOULD create any superior hierarchical names"). CREATE
 * INBOX fails with [ALREADYEXISTS].
 */
import { FOLDER_DELIMITER, StoreError } from '@delegato/mailstore';
import { command } from '../context.js';
import { refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const create = command({
  name: 'CREATE',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    let mailbox = r.mailbox();
    r.end();
    while (mailbox.endsWith(FOLDER_DELIMITER)) mailbox = mailbox.slice(0, -1);
    return { mailbox };
  },
  async handle(ctx, { mailbox }) {
    if (mailbox === 'INBOX') throw refused('ALREADYEXISTS', 'Mailbox already exists');
    const { backend } = ctx.services;
    const userId = ctx.user.id;
    const parts = mailbox.split(FOLDER_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(FOLDER_DELIMITER);
      if (parent === '' || parent.toUpperCase() === 'INBOX') continue;
      try {
        await backend.createFolder(userId, parent);
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'folder-exists')) throw error;
      }
    }
    await backend.createFolder(userId, mailbox);
    return undefined;
  },
});
