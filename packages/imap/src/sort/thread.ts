/**
 * THREAD algorithms (RFC 5256 §3): ORDEREDSUBJECT ("poor man's threading") and REFERENCES (Jamie
 * Zawinski's algorithm as the RFC specifies it), and the THREAD response syntax (RFC 5256 §4:
 * `(1 2 (3)(4))`).
 */
import type { SortValues } from './values.js';

/** A node of the thread tree: a message, or a dummy standing for a referenced message we do not have. */
export interface ThreadNode {
  message: SortValues | null;
  children: ThreadNode[];
}

/** Sent date then mailbox order (RFC 5256 §2.2, §3). */
function byDate(a: SortValues, b: SortValues): number {
  return a.date - b.date || a.seq - b.seq;
}

/**
 * ORDEREDSUBJECT: messages grouped by base subject, each group sorted by sent date; the first message
 * of a group is the parent of the others; groups are ordered by the sent date of their first message.
 */
export function orderedSubject(values: readonly SortValues[]): ThreadNode[] {
  const groups = new Map<string, SortValues[]>();
  for (const v of [...values].sort(byDate)) {
    const list = groups.get(v.subject);
    if (list) list.push(v);
    else groups.set(v.subject, [v]);
  }
  const roots = [...groups.values()].map((list) => {
    const [first, ...rest] = list as [SortValues, ...SortValues[]];
    return { message: first, children: rest.map((m) => ({ message: m, children: [] })) };
  });
  return roots.sort((a, b) => byDate(a.message, b.message));
}

interface Container {
  message: SortValues | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(a: Container, of: Container): boolean {
  for (let c: Container | null = of; c; c = c.parent) if (c === a) return true;
  return false;
}

function link(parent: Container, child: Container): void {
  if (child.parent) child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  if (!child.parent) return;
  child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = null;
}

/** REFERENCES (RFC 5256 §3). */
export function referencesThreads(values: readonly SortValues[]): ThreadNode[] {
  const byId = new Map<string, Container>();
  const containerFor = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { message: null, parent: null, children: [] };
      byId.set(id, c);
    }
    return c;
  };
  const all: Container[] = [];
  // (1) the id table and the links of every message's references.
  for (const v of [...values].sort((a, b) => a.seq - b.seq)) {
    let own: Container;
    const existing = v.messageId ? byId.get(v.messageId) : undefined;
    if (v.messageId && (!existing || existing.message === null)) {
      own = containerFor(v.messageId);
    } else {
      // No Message-ID, or a duplicate: a unique container (RFC 5256 §3 REFERENCES (1)).
      own = { message: null, parent: null, children: [] };
    }
    own.message = v;
    all.push(own);
    // (1)(A) each reference the parent of the next, unless already linked or a loop would form.
    let prev: Container | null = null;
    for (const ref of v.references) {
      const c = containerFor(ref);
      if (prev && c !== prev && !c.parent && !isAncestor(c, prev)) link(prev, c);
      prev = c;
    }
    // (1)(B) the last reference is the message's parent (replacing a link from a truncated References).
    if (prev && (prev === own || isAncestor(own, prev))) prev = null;
    if (prev) link(prev, own);
    else unlink(own);
  }
  for (const c of byId.values()) if (!all.includes(c)) all.push(c);
  // (2) the root set.
  let roots = all.filter((c) => c.parent === null);
  // (4) prune dummies.
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  // (5) group the root set by base subject, visiting the roots in mailbox order (the RFC leaves the
  // order open; a reply then joins the thread of the earliest message with its subject).
  roots.sort((a, b) => firstSeq(a) - firstSeq(b));
  roots = groupBySubject(roots);
  // (6) sort siblings by sent date (a dummy by its first child's, after sorting its children).
  return roots.map(toNode).sort(compareNodes);
}

/** (4) Dummies without children go; a dummy's children take its place (at the root only if it has one). */
function prune(list: Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    c.children = prune(c.children, false);
    for (const child of c.children) child.parent = c;
    if (c.message !== null) {
      out.push(c);
    } else if (c.children.length === 0) {
      // dropped
    } else if (!atRoot || c.children.length === 1) {
      out.push(...c.children);
    } else {
      out.push(c);
    }
  }
  return out;
}

/** The lowest sequence number in a subtree. */
function firstSeq(c: Container): number {
  let min = c.message?.seq ?? Number.POSITIVE_INFINITY;
  for (const child of c.children) min = Math.min(min, firstSeq(child));
  return min;
}

function subjectOf(c: Container): SortValues | null {
  return c.message ?? c.children[0]?.message ?? null;
}

function groupBySubject(roots: Container[]): Container[] {
  const table = new Map<string, Container>();
  // (5)(A)-(C) the table: a dummy wins over a message, a non-reply over a reply.
  for (const r of roots) {
    const s = subjectOf(r);
    if (!s || s.subject === '') continue;
    const old = table.get(s.subject);
    if (
      !old ||
      (r.message === null && old.message !== null) ||
      (old.message?.isReplyOrForward === true && r.message !== null && !r.message.isReplyOrForward)
    ) {
      table.set(s.subject, r);
    }
  }
  // (5)(D)-(E) merge the roots of equal subjects, in place.
  const out = [...roots];
  for (const r of roots) {
    const s = subjectOf(r);
    const t = s && s.subject !== '' ? table.get(s.subject) : undefined;
    if (!s || !t || t === r) continue;
    const drop = () => out.splice(out.indexOf(r), 1);
    if (t.message === null && r.message === null) {
      for (const child of [...r.children]) link(t, child);
      drop();
    } else if (t.message === null || (r.message?.isReplyOrForward && !t.message.isReplyOrForward)) {
      link(t, r);
      drop();
    } else {
      // A new dummy holding both takes the table container's place.
      const dummy: Container = { message: null, parent: null, children: [] };
      out[out.indexOf(t)] = dummy;
      link(dummy, t);
      link(dummy, r);
      drop();
      table.set(s.subject, dummy);
    }
  }
  return out;
}

function toNode(c: Container): ThreadNode {
  const children = c.children.map(toNode).sort(compareNodes);
  return { message: c.message, children };
}

function nodeDate(n: ThreadNode): SortValues | null {
  return n.message ?? (n.children[0] ? nodeDate(n.children[0]) : null);
}

function compareNodes(a: ThreadNode, b: ThreadNode): number {
  const x = nodeDate(a);
  const y = nodeDate(b);
  if (!x || !y) return 0;
  return byDate(x, y);
}

/** RFC 5256 §4: `(a b (c)(d))`; `number` gives the sequence number or UID of a message. */
export function formatThreads(roots: readonly ThreadNode[], number: (v: SortValues) => number): string {
  const member = (n: ThreadNode): string => {
    // A chain of single children is written flat; several children each in parentheses.
    const parts: string[] = [];
    let cur: ThreadNode = n;
    for (;;) {
      if (cur.message) parts.push(String(number(cur.message)));
      if (cur.children.length === 1) {
        cur = cur.children[0] as ThreadNode;
        continue;
      }
      if (cur.children.length > 1) parts.push(cur.children.map((c) => `(${member(c)})`).join(''));
      break;
    }
    return parts.join(' ');
  };
  return roots.map((r) => `(${member(r)})`).join('');
}
