/**
 * Bulk import of mailboxes (issue 19): rows named after `delegato mailbox add`'s options (first, last,
 * address, username, group, contact, quota, expires, role; csv.ts reads the file), checked one by one
 * against the directory and against each other (`planImport`, the preview and `--dry-run`), then applied
 * all together in one transaction with one audit row (`mailbox.import`), or not at all when any row is
 * wrong. Imported mailboxes have no password yet (like a fresh postmaster@): nobody can log in to them
 * until an admin sets one, or the import is asked to make them up (`passwords`).
 */
import { and, eq, inArray } from 'drizzle-orm';
import { validateLocalPart } from '../addressing/index.js';
import { deriveCredentials, randomPassword } from '../credentials.js';
import { DirectoryError, invalid } from '../errors.js';
import { parseIsoDate } from '../expiry.js';
import { addresses, type MailboxKind, mailboxes } from '../schema.js';
import type { Actor } from '../scope.js';
import { cleanText, type DirectoryContext, scopedDomain, toInvalid } from './context.js';
import { refuseEmptyImport, refuseUnlessAllRowsGood } from './import-rows.js';
import { personalParts } from './mailboxes.js';
import { checkDomainRoom, parseSizeText } from './quotas.js';
import { addGeneratedAliases, groupId, insertMailbox } from './rows.js';
import type { ChangeContext } from './writer.js';

export const IMPORT_COLUMNS = [
  'first',
  'last',
  'address',
  'username',
  'group',
  'contact',
  'quota',
  'expires',
  'role',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Most rows one import takes (a bigger file is split). */
export const MAX_IMPORT_ROWS = 5000;

/** One data row: its line in the file (for the messages) and its values by column. */
export interface ImportRow {
  line: number;
  values: Partial<Record<ImportColumn, string>>;
}

export interface PlannedRow {
  line: number;
  /** What the row becomes (absent when it is wrong before an address could be worked out). */
  address?: string;
  username?: string;
  kind?: MailboxKind;
  name?: string;
  group?: string | null;
  quotaBytes?: number | null;
  /** Why this row cannot be imported; absent when it can. */
  error?: string;
}

export interface ImportPlan {
  domain: string;
  rows: PlannedRow[];
  /** Lines of the rows with errors. */
  errorLines: number[];
  /** A problem of the whole import (the domain's limits), or null. */
  error: string | null;
}

const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

interface Checked extends PlannedRow {
  localPart?: string;
  firstName?: string | null;
  lastName?: string | null;
  generated?: string[];
  contact?: string | null;
  expiresOn?: string | null;
}

function checkRow(row: ImportRow): Checked {
  const v = row.values;
  const text = (k: ImportColumn) => {
    const x = v[k]?.trim();
    return x ? x : undefined;
  };
  try {
    const role = text('role');
    const first = cleanText('first name', text('first'));
    const last = cleanText('last name', text('last'));
    let kind: MailboxKind;
    let official: string;
    let generated: string[] = [];
    try {
      if (role !== undefined) {
        if (first || last || text('address')) throw invalid('a role row has no first, last or address');
        kind = 'role';
        official = validateLocalPart(role);
      } else {
        if (!first || !last) throw invalid('a person needs first and last (or role for a role address)');
        kind = 'personal';
        ({ official, generated } = personalParts(first, last, text('address')));
      }
    } catch (err) {
      toInvalid(err);
    }
    let username: string;
    try {
      username = validateLocalPart(text('username') ?? official);
    } catch {
      throw invalid(`invalid username "${text('username')}": use letters, digits, dots, hyphens`);
    }
    const group = cleanText('group', text('group'));
    if (group !== null && !GROUP_NAME.test(group)) throw invalid(`invalid group name "${group}"`);
    const quota = text('quota');
    return {
      line: row.line,
      kind,
      localPart: official,
      username,
      name: kind === 'role' ? '' : `${first} ${last}`,
      firstName: first,
      lastName: last,
      generated,
      group,
      contact: cleanText('contact', text('contact')),
      quotaBytes: quota === undefined ? null : parseSizeText(quota),
      expiresOn: text('expires') ? parseIsoDate(text('expires') as string) : null,
    };
  } catch (err) {
    if (err instanceof DirectoryError) return { line: row.line, error: err.message };
    throw err;
  }
}

async function plan(ctx: DirectoryContext, actor: Actor, domainInput: string, rows: ImportRow[]) {
  if (rows.length > MAX_IMPORT_ROWS) throw invalid(`at most ${MAX_IMPORT_ROWS} rows in one import`);
  const domain = await scopedDomain(ctx.db, actor, domainInput);
  const checked = rows.map(checkRow);
  for (const r of checked) if (r.localPart) r.address = `${r.localPart}@${domain.name}`;
  const wanted = checked.flatMap((r) =>
    r.address ? [r.address, ...(r.username !== r.localPart ? [`${r.username}@${domain.name}`] : [])] : [],
  );
  const taken = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += 500) {
    const part = wanted.slice(i, i + 500);
    for (const a of await ctx.db
      .select({ address: addresses.address, kind: addresses.kind })
      .from(addresses)
      .where(inArray(addresses.address, part)))
      taken.set(a.address, a.kind);
  }
  const users = new Set(
    (
      await ctx.db
        .select({ username: mailboxes.username })
        .from(mailboxes)
        .where(and(eq(mailboxes.domainId, domain.id)))
    ).map((r) => r.username),
  );
  const inFile = new Map<string, number>();
  const usernamesInFile = new Map<string, number>();
  for (const r of checked) {
    if (r.error || !r.address || !r.username) continue;
    const kind = taken.get(r.address);
    if (kind) {
      r.error = `${r.address} already exists (${kind === 'official' ? 'a mailbox' : `a ${kind} alias`}); give another address`;
    } else if (inFile.has(r.address)) {
      r.error = `${r.address} is also on line ${inFile.get(r.address)}; give one of them another address`;
    } else if (users.has(r.username)) {
      r.error = `username ${r.username} is already used in ${domain.name}`;
    } else if (usernamesInFile.has(r.username)) {
      r.error = `username ${r.username} is also on line ${usernamesInFile.get(r.username)}`;
    } else if (r.username !== r.localPart && taken.has(`${r.username}@${domain.name}`)) {
      r.error = `username ${r.username} would clash with the address ${r.username}@${domain.name}`;
    }
    inFile.set(r.address, inFile.get(r.address) ?? r.line);
    usernamesInFile.set(r.username, usernamesInFile.get(r.username) ?? r.line);
  }
  const good = checked.filter((r) => !r.error);
  let error: string | null = null;
  try {
    await checkDomainRoom(ctx.db, domain, {
      adding: good.length,
      quotas: good.map((r) => r.quotaBytes ?? null),
    });
  } catch (err) {
    if (!(err instanceof DirectoryError)) throw err;
    error = err.message;
  }
  return { domain, checked, error };
}

const publicRow = (r: Checked): PlannedRow => {
  const {
    localPart: _l,
    firstName: _f,
    lastName: _n,
    generated: _g,
    contact: _c,
    expiresOn: _e,
    ...rest
  } = r;
  return rest;
};

/** The preview (and `--dry-run`): every row checked, nothing written. */
export async function planImport(
  ctx: DirectoryContext,
  actor: Actor,
  domainInput: string,
  rows: ImportRow[],
): Promise<ImportPlan> {
  const p = await plan(ctx, actor, domainInput, rows);
  return {
    domain: p.domain.name,
    rows: p.checked.map(publicRow),
    errorLines: p.checked.filter((r) => r.error).map((r) => r.line),
    error: p.error,
  };
}

/**
 * `mailbox.import`: every row, or none. Refused (`invalid`, naming the lines) when any row is wrong.
 * With `passwords`, each mailbox gets a made-up password, returned once.
 */
export async function importMailboxes(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; rows: ImportRow[]; passwords?: boolean },
): Promise<{
  domain: string;
  imported: Array<{ line: number; address: string; username: string; password?: string }>;
}> {
  const p = await plan(ctx, change.actor, input.domain, input.rows);
  refuseUnlessAllRowsGood(p.checked);
  if (p.error) throw invalid(`nothing imported: ${p.error}`);
  refuseEmptyImport(p.checked);
  const passwords = new Map<number, string>();
  const credentials = new Map<number, Awaited<ReturnType<typeof deriveCredentials>>>();
  if (input.passwords) {
    for (const r of p.checked) {
      const pw = randomPassword();
      passwords.set(r.line, pw);
      credentials.set(
        r.line,
        await deriveCredentials(pw, { key: ctx.options.key, cramMd5: ctx.options.cramMd5 }),
      );
    }
  }
  const domain = p.domain;
  return change.commit({ action: 'mailbox.import', target: domain.name, domain: domain.name }, async (tx) => {
    const now = ctx.nowIso();
    const imported = [];
    for (const r of p.checked) {
      const gid = await groupId(tx, now, domain.id, r.group ?? null);
      const { id, address } = await insertMailbox(tx, now, {
        domainId: domain.id,
        domainName: domain.name,
        kind: r.kind as MailboxKind,
        localPart: r.localPart as string,
        username: r.username as string,
        firstName: r.firstName ?? null,
        lastName: r.lastName ?? null,
        groupId: gid,
        contact: r.contact ?? null,
        flag: null,
        quotaBytes: r.quotaBytes ?? null,
        expiresOn: r.expiresOn ?? null,
        credentials: credentials.get(r.line) ?? null,
      });
      await addGeneratedAliases(
        tx,
        now,
        { mailboxId: id, domainId: domain.id, domainName: domain.name },
        r.generated ?? [],
      );
      const pw = passwords.get(r.line);
      imported.push({
        line: r.line,
        address,
        username: r.username as string,
        ...(pw ? { password: pw } : {}),
      });
    }
    return {
      result: { domain: domain.name, imported },
      details: { count: imported.length, addresses: imported.map((m) => m.address) },
    };
  });
}
