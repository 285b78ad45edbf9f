/**
 * ENABLE capability...: RFC 5161 (and RFC 9051 §6.3.1). Authenticated state. CONDSTORE, QRESYNC (RFC 7162
 * §3.2.3: QRESYNC implies CONDSTORE) and IMAP4rev2 (RFC 9051 §6.3.1) can be enabled; others are ignored.
 * `* ENABLED` lists those newly enabled.
 */
import { command, type Extension } from '../context.js';
import { ArgReader } from '../parser/args.js';

const ENABLEABLE = new Map<string, Extension>([
  ['CONDSTORE', 'CONDSTORE'],
  ['QRESYNC', 'QRESYNC'],
  ['IMAP4REV2', 'IMAP4rev2'],
]);

export const enable = command({
  name: 'ENABLE',
  states: ['authenticated'],
  parse(args) {
    const r = new ArgReader(args);
    const names = [r.atom('capability')];
    while (r.remaining > 0) names.push(r.atom('capability'));
    return { names: names.map((n) => n.toUpperCase()) };
  },
  async handle(ctx, { names }) {
    const added: Extension[] = [];
    for (const n of names) {
      const ext = ENABLEABLE.get(n);
      if (ext) added.push(...ctx.enable(ext));
    }
    await ctx.untagged(['ENABLED', ...added.map((e) => ` ${e}`)]);
    return undefined;
  },
});
