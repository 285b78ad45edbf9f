/** GETQUOTA root: RFC 9208 §4.2. The only root is "" (and only when the user has a limit). */
import type { QuotaInfo } from '../backend.js';
import { command } from '../context.js';
import { refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

/** `QUOTA "" (STORAGE used limit)`, in KiB: used rounded up, the limit down (RFC 9208 §5.1). */
export function quotaResponse(q: QuotaInfo): string {
  const used = Math.ceil(q.usedBytes / 1024);
  const limit = Math.floor((q.limitBytes ?? 0) / 1024);
  return `QUOTA "" (STORAGE ${used} ${limit})`;
}

export const getquota = command({
  name: 'GETQUOTA',
  states: ['authenticated', 'selected'],
  parse(args) {
    const r = new ArgReader(args);
    const root = r.astring('quota root');
    r.end();
    return { root };
  },
  async handle(ctx, { root }) {
    const quota = await ctx.services.backend.quota(ctx.user.id);
    if (root !== '' || quota.limitBytes === null) throw refused('NONEXISTENT', 'No such quota root.');
    await ctx.untagged(quotaResponse(quota));
    return undefined;
  },
});
