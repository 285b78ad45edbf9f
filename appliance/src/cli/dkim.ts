/**
 * `delegato dkim ...`: the DKIM keys of hosted domains (issue 18; packages/directory/src/service/dkim.ts).
 *
 *   dkim list <domain>                 the keys, their state and DNS record names
 *   dkim dns <domain>                  the TXT records of the keys to publish (all but retired ones)
 *   dkim rotate <domain> [--prepare]   --prepare: new keys, published first (pending); then rotate again to
 *                                      make them sign (the old ones stay published as `previous`)
 *   dkim retire <domain> <selector>    a previous key is no longer published
 *   dkim backfill [<domain>]           keys for domains added before DKIM existed (once)
 *
 * Rotation and retirement are operators' (the directory refuses domain admins); `list` and `dns` are open to
 * a domain's admins for their own domain.
 */
import type { DkimKeyView } from '@delegato/directory';
import type { CommandSpec } from './commands.js';

/** `<name> TXT "<value>"`, the value split into 255-byte character-strings (RFC 1035 §3.3.14). */
export function dkimRecordLine(k: Pick<DkimKeyView, 'dnsName' | 'txt'>): string {
  const parts: string[] = [];
  for (let i = 0; i < k.txt.length; i += 255) parts.push(`"${k.txt.slice(i, i + 255)}"`);
  return `${k.dnsName}. 3600 IN TXT ${parts.join(' ')}`;
}

function table(keys: DkimKeyView[]): string {
  if (keys.length === 0) return '(no keys: run "delegato dkim backfill")';
  return keys
    .map((k) => `${k.selector}\t${k.algorithm}\t${k.state}\t${k.createdAt}\t${k.dnsName}`)
    .join('\n');
}

export const DKIM_COMMANDS: CommandSpec[] = [
  {
    words: ['dkim', 'list'],
    usage: 'dkim list <domain>',
    positionals: [1, 1],
    async run(ctx, [domain]) {
      const keys = await ctx.directory.listDkimKeys(ctx.actor, domain ?? '');
      return { text: table(keys), json: keys };
    },
  },
  {
    words: ['dkim', 'dns'],
    usage: 'dkim dns <domain>',
    positionals: [1, 1],
    async run(ctx, [domain]) {
      const keys = (await ctx.directory.listDkimKeys(ctx.actor, domain ?? '')).filter(
        (k) => k.state !== 'retired',
      );
      return {
        text: keys.map(dkimRecordLine).join('\n') || '(no keys)',
        json: keys.map((k) => ({ name: k.dnsName, type: 'TXT', value: k.txt, state: k.state })),
      };
    },
  },
  {
    words: ['dkim', 'rotate'],
    usage: 'dkim rotate <domain> [--prepare]',
    options: { prepare: { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const r = await ctx.directory.rotateDkimKeys(ctx.actor, domain ?? '', {
        prepare: values.prepare === true,
      });
      const keys = await ctx.directory.listDkimKeys(ctx.actor, r.domain);
      const fresh = keys.filter((k) => r.pending.includes(k.selector) || r.active.includes(k.selector));
      const text = r.pending.length
        ? [
            `new keys ${r.pending.join(', ')} are pending: publish these records, then run "delegato dkim rotate ${r.domain}"`,
            ...fresh.map(dkimRecordLine),
          ].join('\n')
        : [
            `signing with ${r.active.join(', ')}${r.previous.length ? `; ${r.previous.join(', ')} kept published until "delegato dkim retire ${r.domain} <selector>"` : ''}`,
            ...fresh.map(dkimRecordLine),
          ].join('\n');
      return { text, json: r };
    },
  },
  {
    words: ['dkim', 'retire'],
    usage: 'dkim retire <domain> <selector>',
    positionals: [2, 2],
    async run(ctx, [domain, selector]) {
      const r = await ctx.directory.retireDkimKey(ctx.actor, domain ?? '', selector ?? '');
      return { text: `${r.selector}._domainkey.${r.domain} retired: its TXT record may be removed`, json: r };
    },
  },
  {
    words: ['dkim', 'backfill'],
    usage: 'dkim backfill [<domain>]',
    positionals: [0, 1],
    async run(ctx, [domain]) {
      const r = await ctx.directory.ensureDkimKeys(ctx.actor, domain);
      return {
        text: r.created.length ? `keys created for ${r.created.join(', ')}` : 'every domain has its keys',
        json: r,
      };
    },
  },
];
