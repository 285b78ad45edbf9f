/**
 * CREATE mailbox [(USE (attributes))]: RFC 9051 §6.3.4; RFC 6154 §3 CREATE-SPECIAL-USE. A trailing
 * delimiter only declares the intent to create children (stripped); missing parents are created too
 * ("SHOULD create any superior hierarchical names"). CREATE INBOX fails with [ALREADYEXISTS]. A use
 * attribute the store cannot keep (it keeps one of \Sent, \Drafts, \Trash, \Junk per folder) is
 * `NO [USEATTR]` (RFC 6154 §3), and nothing is created.
 */
import { FOLDER_DELIMITER, isStoreError, type SpecialUse } from '../backend.js';
import { command } from '../context.js';
import { badCommand, refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

/** The special uses a folder can be created with. */
export const CREATABLE_USES: readonly SpecialUse[] = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk'];
/** RFC 6154 §2 attributes we know but cannot store. */
const KNOWN_USES = ['\\ALL', '\\ARCHIVE', '\\DRAFTS', '\\FLAGGED', '\\JUNK', '\\SENT', '\\TRASH'];

export interface CreateArgs {
  mailbox: string;
  /** The USE attributes as sent (RFC 6154 §3). */
  uses: string[];
}

export const create = command<CreateArgs>({
  name: 'CREATE',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    let mailbox = r.mailbox();
    const uses: string[] = [];
    if (r.remaining > 0) {
      // RFC 4466 §2.2 create-params; RFC 6154 §6: "USE" SP "(" [use-attr *(SP use-attr)] ")".
      const params = new ArgReader(r.list('create parameters'));
      while (params.remaining > 0) {
        const name = params.atom('create parameter').toUpperCase();
        if (name !== 'USE') throw badCommand(`Unknown create parameter ${name.slice(0, 40)}`);
        for (const a of params.list('use attributes')) {
          if (a.kind !== 'atom' || !a.value.startsWith('\\')) throw badCommand('Invalid use attribute');
          uses.push(a.value);
        }
      }
    }
    r.end();
    while (mailbox.endsWith(FOLDER_DELIMITER)) mailbox = mailbox.slice(0, -1);
    return { mailbox, uses };
  },
  async handle(ctx, { mailbox, uses }) {
    if (mailbox === 'INBOX') throw refused('ALREADYEXISTS', 'Mailbox already exists');
    let specialUse: SpecialUse | undefined;
    if (uses.length > 0) {
      const use = CREATABLE_USES.find((u) => u.toUpperCase() === (uses[0] as string).toUpperCase());
      if (uses.length > 1 || !use) {
        const known = uses.every((u) => KNOWN_USES.includes(u.toUpperCase()));
        throw refused(
          'USEATTR',
          known ? 'Special use not supported for new mailboxes' : 'Unknown special use',
        );
      }
      specialUse = use;
    }
    const { backend } = ctx.services;
    const userId = ctx.user.id;
    const parts = mailbox.split(FOLDER_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(FOLDER_DELIMITER);
      if (parent === '' || parent.toUpperCase() === 'INBOX') continue;
      try {
        await backend.createFolder(userId, parent);
      } catch (error) {
        if (!isStoreError(error, 'folder-exists')) throw error;
      }
    }
    await backend.createFolder(userId, mailbox, specialUse ? { specialUse } : {});
    return undefined;
  },
});
