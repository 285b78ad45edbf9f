/**
 * LIST [(selection-options)] reference pattern(s) [RETURN (return-options)]: RFC 9051 §6.3.9 with
 * LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819).
 *
 * Every listed name carries \HasChildren or \HasNoChildren and its special-use attribute; a name that
 * only exists as a parent is \Noselect (\NonExistent with the extended syntax, RFC 5258 §3.4).
 * `LIST "" ""` returns the hierarchy delimiter (RFC 9051 §6.3.9).
 */
import { FOLDER_DELIMITER } from '../backend.js';
import { command } from '../context.js';
import { badCommand, ImapError } from '../errors.js';
import { folderTree, joinReference, patternMatcher } from '../mailbox/list.js';
import { parseStatusItems, type StatusItem, statusValues } from '../mailbox/status.js';
import { ArgReader, decodeMailboxName, type ParseEnv } from '../parser/args.js';
import type { Arg } from '../parser/types.js';
import { quoted, type Wire } from '../wire.js';

export interface ListArgs {
  reference: string;
  patterns: string[];
  /** The LIST-EXTENDED syntax was used. */
  extended: boolean;
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  returnStatus: StatusItem[] | null;
}

function patternText(a: Arg, env: ParseEnv): string {
  if (a.kind === 'list') throw badCommand('Invalid mailbox pattern');
  const bytes = a.kind === 'atom' ? Buffer.from(a.value, 'utf8') : a.value;
  if (bytes.length === 0) return '';
  try {
    return decodeMailboxName(bytes, env);
  } catch (error) {
    // A pattern that is not modified UTF-7 matches no mailbox name: LIST answers OK with nothing.
    if (error instanceof ImapError && error.code === 'CANNOT') return bytes.toString('latin1');
    throw error;
  }
}

export const list = command<ListArgs>({
  name: 'LIST',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const out: ListArgs = {
      reference: '',
      patterns: [],
      extended: false,
      selectSubscribed: false,
      selectSpecialUse: false,
      recursiveMatch: false,
      returnSubscribed: false,
      returnStatus: null,
    };
    if (r.peek()?.kind === 'list') {
      out.extended = true;
      const opts = r.list('selection options');
      for (const o of opts) {
        const name = o.kind === 'atom' ? o.value.toUpperCase() : '';
        if (name === 'SUBSCRIBED') out.selectSubscribed = true;
        else if (name === 'SPECIAL-USE') out.selectSpecialUse = true;
        else if (name === 'RECURSIVEMATCH') out.recursiveMatch = true;
        else if (name !== 'REMOTE') throw badCommand('Invalid selection option');
      }
      // RFC 5258 §3.1: RECURSIVEMATCH alone is an error.
      if (out.recursiveMatch && !out.selectSubscribed && !out.selectSpecialUse) {
        throw badCommand('RECURSIVEMATCH needs another selection option');
      }
    }
    const refArg = r.any('reference');
    out.reference = patternText(refArg, env);
    const pat = r.any('mailbox pattern');
    if (pat.kind === 'list') {
      out.extended = true;
      if (pat.items.length === 0) throw badCommand('Empty pattern list');
      out.patterns = pat.items.map((p) => patternText(p, env));
    } else {
      out.patterns = [patternText(pat, env)];
    }
    if (r.remaining > 0) {
      if (r.atom('RETURN').toUpperCase() !== 'RETURN') throw badCommand('RETURN expected');
      out.extended = true;
      const opts = r.list('return options');
      for (let i = 0; i < opts.length; i++) {
        const o = opts[i] as Arg;
        const name = o.kind === 'atom' ? o.value.toUpperCase() : '';
        if (name === 'SUBSCRIBED') out.returnSubscribed = true;
        else if (name === 'STATUS') {
          const items = opts[++i];
          if (items?.kind !== 'list') throw badCommand('STATUS return option needs a list');
          out.returnStatus = parseStatusItems(items.items);
        } else if (name !== 'CHILDREN' && name !== 'SPECIAL-USE') throw badCommand('Invalid return option');
      }
    }
    r.end();
    if (out.selectSubscribed) out.returnSubscribed = true;
    return out;
  },
  async handle(ctx, args) {
    if (args.patterns.length === 1 && args.patterns[0] === '' && !args.extended) {
      await ctx.untagged(`LIST (\\Noselect) ${quoted(FOLDER_DELIMITER)} ""`);
      return undefined;
    }
    const { backend } = ctx.services;
    const userId = ctx.user.id;
    const folders = await backend.listFolders(userId);
    // RFC 5258 §3.1: SUBSCRIBED selects subscribed names whether their mailbox exists or not.
    const orphans = args.selectSubscribed ? await backend.subscriptionsWithoutFolder(userId) : [];
    const subscribedNames = [...folders.filter((f) => f.subscribed).map((f) => f.name), ...orphans];
    const matchers = args.patterns
      .filter((p) => p !== '')
      .map((p) => patternMatcher(joinReference(args.reference, p)));
    const matches = (name: string) => matchers.some((m) => m(name));
    for (const entry of folderTree(folders, orphans)) {
      const f = entry.folder;
      const attrs: string[] = [];
      const extra: Wire[] = [];
      if (!matches(entry.name)) continue;
      if (args.selectSubscribed || args.selectSpecialUse) {
        const selectedItself =
          (args.selectSubscribed ? entry.subscribed : f !== null) &&
          (!args.selectSpecialUse || (f !== null && f.specialUse !== null));
        // RFC 5258 §3.5: CHILDINFO tells of matching children the response does not list itself; a
        // parent whose subscribed descendants all match a pattern (and are listed) is left out (as Dovecot).
        const prefix = `${entry.name}${FOLDER_DELIMITER}`;
        const viaChild =
          args.recursiveMatch &&
          args.selectSubscribed &&
          entry.subscribedChild &&
          subscribedNames.some((d) => d.startsWith(prefix) && !matches(d));
        if (!selectedItself && !viaChild) continue;
        if (!selectedItself && viaChild) extra.push(' ("CHILDINFO" ("SUBSCRIBED"))');
      }
      // RFC 9051 §7.3.1 (IMAP4rev2) and RFC 5258 §3.4 spell a missing parent \NonExistent.
      if (f === null) attrs.push(args.extended || ctx.rev2 ? '\\NonExistent' : '\\Noselect');
      attrs.push(entry.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
      if (f?.specialUse) attrs.push(f.specialUse);
      if (args.returnSubscribed && entry.subscribed) attrs.push('\\Subscribed');
      await ctx.untagged([
        `LIST (${attrs.join(' ')}) ${quoted(FOLDER_DELIMITER)} `,
        ctx.mailboxName(entry.name),
        ...extra,
      ]);
      if (args.returnStatus && f) {
        const values = await statusValues(backend, userId, f, args.returnStatus, ctx.services.recent);
        await ctx.untagged(['STATUS ', ctx.mailboxName(entry.name), ` (${values})`]);
      }
    }
    return undefined;
  },
});
