/**
 * LIST / LSUB matching (RFC 9051 §6.3.9, RFC 3501 §6.3.8–9, RFC 5258 LIST-EXTENDED, RFC 6154
 * SPECIAL-USE, RFC 3348 CHILDREN): the reference and pattern are joined into one canonical pattern; `*`
 * matches anything, `%` anything but the hierarchy delimiter; INBOX matches case-insensitively.
 * A name that does not exist but has descendants (`a` of `a/b`) is listed as `\Noselect` (`\NonExistent`
 * with LIST-EXTENDED), so clients can draw the tree.
 */
import { canonicalFolderName, FOLDER_DELIMITER, type FolderInfo } from '../backend.js';

/** Joins reference and pattern (RFC 3501 §6.3.8: the reference is a prefix of the pattern). */
export function joinReference(reference: string, pattern: string): string {
  if (reference === '') return pattern;
  if (pattern.startsWith(FOLDER_DELIMITER)) return pattern;
  if (reference.endsWith(FOLDER_DELIMITER)) return reference + pattern;
  return reference + pattern;
}

/**
 * A matcher for a canonical pattern. Not a regular expression: `*a*a*a...` against a long name would make
 * a backtracking engine take exponential time. This is the O(name × pattern) dynamic programme.
 */
export function patternMatcher(pattern: string): (name: string) => boolean {
  // INBOX is case-insensitive, also as the first level of a pattern (`inbox/%`).
  let p = pattern;
  if (/^inbox(?=$|\/)/i.test(p)) p = `INBOX${p.slice(5)}`;
  // Runs of wildcards collapse: `**`, `*%`, `%*` are `*`; `%%` is `%`.
  const tokens: string[] = [];
  for (const ch of p) {
    const last = tokens[tokens.length - 1];
    if ((ch === '*' || ch === '%') && (last === '*' || last === '%')) {
      if (ch === '*') tokens[tokens.length - 1] = '*';
      continue;
    }
    tokens.push(ch);
  }
  const m = tokens.length;
  return (name) => {
    let prev = new Uint8Array(m + 1);
    let next = new Uint8Array(m + 1);
    prev[0] = 1;
    for (let j = 1; j <= m; j++) {
      const t = tokens[j - 1];
      prev[j] = prev[j - 1] === 1 && (t === '*' || t === '%') ? 1 : 0;
    }
    for (const c of name) {
      next[0] = 0;
      for (let j = 1; j <= m; j++) {
        const t = tokens[j - 1];
        if (t === '*') next[j] = next[j - 1] || prev[j] ? 1 : 0;
        else if (t === '%') next[j] = next[j - 1] || (prev[j] && c !== FOLDER_DELIMITER) ? 1 : 0;
        else next[j] = prev[j - 1] && t === c ? 1 : 0;
      }
      [prev, next] = [next, prev];
    }
    return prev[m] === 1;
  };
}

export interface ListEntry {
  name: string;
  /** The folder, or null for a name that only exists as a parent of others. */
  folder: FolderInfo | null;
  /** The name is subscribed: the folder's flag, or a subscription kept after its folder was deleted. */
  subscribed: boolean;
  hasChildren: boolean;
  /** Some descendant is subscribed (RECURSIVEMATCH with SUBSCRIBED, LSUB's \Noselect parents). */
  subscribedChild: boolean;
}

/**
 * Every name of the tree: the folders and their missing parents, and the subscribed names whose folder
 * was deleted (`subscribedOnly`, RFC 5258 §3.4 `\NonExistent \Subscribed`), in listing order (INBOX first).
 */
export function folderTree(
  folders: readonly FolderInfo[],
  subscribedOnly: readonly string[] = [],
): ListEntry[] {
  const byName = new Map<string, ListEntry>();
  for (const f of folders)
    byName.set(f.name, {
      name: f.name,
      folder: f,
      subscribed: f.subscribed,
      hasChildren: false,
      subscribedChild: false,
    });
  for (const name of subscribedOnly) {
    if (byName.has(name)) continue;
    byName.set(name, { name, folder: null, subscribed: true, hasChildren: false, subscribedChild: false });
    const parts = name.split(FOLDER_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      const parent = byName.get(canonicalFolderName(parts.slice(0, i).join(FOLDER_DELIMITER)));
      if (parent) parent.subscribedChild = true;
    }
  }
  for (const f of folders) {
    const parts = f.name.split(FOLDER_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      const parent = canonicalFolderName(parts.slice(0, i).join(FOLDER_DELIMITER));
      let e = byName.get(parent);
      if (!e) {
        e = { name: parent, folder: null, subscribed: false, hasChildren: false, subscribedChild: false };
        byName.set(parent, e);
      }
      e.hasChildren = true;
      if (f.subscribed) e.subscribedChild = true;
    }
  }
  return [...byName.values()].sort((a, b) =>
    a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}
