/**
 * CANCELUPDATE tag-string *(SP tag-string): RFC 5267 §4.3. Ends the SEARCH RETURN (UPDATE) started by the
 * commands with these tags; a tag with no such search is `BAD` (as the RFC's "the server MUST reply with
 * a tagged BAD" for an unknown search).
 */
import { command } from '../context.js';
import { badCommand } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const cancelupdate = command<{ tags: string[] }>({
  name: 'CANCELUPDATE',
  states: ['selected'],
  parse(args) {
    const r = new ArgReader(args);
    const tags: string[] = [];
    while (r.remaining > 0) tags.push(r.astring('search tag'));
    if (tags.length === 0) throw badCommand('Missing search tag');
    return { tags };
  },
  async handle(ctx, { tags }) {
    const live = ctx.selected.listeners;
    for (const tag of tags) {
      const at = live.findIndex((l) => l.tag === tag);
      if (at < 0) throw badCommand(`No search with UPDATE has tag ${tag.slice(0, 40)}`);
      live.splice(at, 1);
    }
    return undefined;
  },
});
