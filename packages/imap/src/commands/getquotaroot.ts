/**
 * GETQUOTAROOT mailbox: RFC 9208 §4.3. One quota root, "", over every folder of the user; STORAGE in
 * units of 1024 octets (RFC 9208 §5.1). Without a limit the mailbox has no quota root.
 */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

import { quotaResponse } from './getquota.js';

export const getquotaroot = command({
  name: 'GETQUOTAROOT',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const mailbox = r.mailbox();
    r.end();
    return { mailbox };
  },
  async handle(ctx, { mailbox }) {
    const { backend } = ctx.services;
    const info = await backend.folderInfo(ctx.user.id, mailbox);
    const quota = await backend.quota(ctx.user.id);
    if (quota.limitBytes === null) {
      await ctx.untagged(['QUOTAROOT ', ctx.mailboxName(info.name)]);
      return undefined;
    }
    await ctx.untagged(['QUOTAROOT ', ctx.mailboxName(info.name), ' ""']);
    await ctx.untagged(quotaResponse(quota));
    return undefined;
  },
});
