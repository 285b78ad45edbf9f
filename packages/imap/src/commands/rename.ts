/**
 * RENAME existing new: RFC 9051 §6.3.6. Inferiors move along; renaming INBOX moves its messages to the
 * new mailbox and leaves INBOX empty (the store does both). Missing parents of the new name are created.
 */
import { FOLDER_DELIMITER, isStoreError } from '../backend.js';
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const rename = command({
  name: 'RENAME',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const from = r.mailbox('existing mailbox name');
    let to = r.mailbox('new mailbox name');
    r.end();
    while (to.endsWith(FOLDER_DELIMITER)) to = to.slice(0, -1);
    return { from, to };
  },
  async handle(ctx, { from, to }) {
    const { backend } = ctx.services;
    const userId = ctx.user.id;
    await backend.folderInfo(userId, from);
    const parts = to.split(FOLDER_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(FOLDER_DELIMITER);
      if (parent === '' || parent === from || parent.toUpperCase() === 'INBOX') continue;
      try {
        await backend.createFolder(userId, parent);
      } catch (error) {
        if (!isStoreError(error, 'folder-exists')) throw error;
      }
    }
    await backend.renameFolder(userId, from, to);
    return undefined;
  },
});
