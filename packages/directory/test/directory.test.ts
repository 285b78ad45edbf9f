/**
 * The directory service against real databases: addresses of people, ambiguity, role mailboxes, logins,
 * expiry, removal, domains, renames, aliases, the scope of delegated admins, credentials, audit, admins.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  type Directory,
  DirectoryError,
  type DirectoryErrorCode,
  type DirectoryOptions,
  FederationKey,
  type NewMailbox,
  scramKeys,
  verifyPassword,
} from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const D = 'iat.example';
const PW = 'correct-horse-battery';
const PW2 = 'another-long-secret';
/** argon2id makes every hash and check take a while: groups that do many get room. */
const SLOW = { timeout: 30_000 };

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A fresh directory (real database) with one domain, `iat.example`, unless `domains` says otherwise. */
async function directory(
  overrides: Partial<DirectoryOptions> = {},
  domains: string[] = [D],
): Promise<Directory> {
  const { dir, cleanup } = await tempDirectory(overrides);
  cleanups.push(cleanup);
  for (const d of domains) await dir.addDomain(operator, d);
  return dir;
}

function person(firstName: string, lastName: string, extra: Partial<NewMailbox> = {}): NewMailbox {
  return { domain: D, kind: 'personal', firstName, lastName, ...extra };
}

/** Awaits `p`, which must reject with a DirectoryError of `code`; returns the error. */
async function expectCode(p: Promise<unknown>, code: DirectoryErrorCode): Promise<DirectoryError> {
  let result: unknown;
  try {
    result = await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DirectoryError);
    expect((err as DirectoryError).code, (err as Error).message).toBe(code);
    return err as DirectoryError;
  }
  throw new Error(`expected DirectoryError ${code}, got success: ${JSON.stringify(result)}`);
}

async function mailboxId(dir: Directory, address: string): Promise<string> {
  const row = await dir.resolveLogin(address);
  if (!row) throw new Error(`no mailbox ${address}`);
  return row.id;
}

/** The generated aliases of a domain as `{ local: sorted target locals }`, and which are ambiguous. */
async function generated(dir: Directory, domain = D) {
  const aliases = await dir.listAliases(operator, domain, { kinds: ['generated'] });
  const local = (a: string) => a.replace(`@${domain}`, '');
  return Object.fromEntries(
    aliases.map((a) => [local(a.address), { targets: a.targets.map(local).sort(), ambiguous: a.ambiguous }]),
  );
}

describe('personal mailboxes', () => {
  it('Rose Pinkcheeks gets rose.pinkcheeks@ with the aliases r.pinkcheeks@ and pinkcheeks@', async () => {
    const dir = await directory();
    const created = await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    expect(created).toEqual({
      address: 'rose.pinkcheeks@iat.example',
      username: 'rose.pinkcheeks',
      kind: 'personal',
      aliases: [
        { address: 'r.pinkcheeks@iat.example', ambiguous: false, candidates: [] },
        { address: 'pinkcheeks@iat.example', ambiguous: false, candidates: [] },
      ],
      skippedAliases: [],
    });
    const id = await mailboxId(dir, 'rose.pinkcheeks@iat.example');
    for (const address of [
      'rose.pinkcheeks@iat.example',
      'r.pinkcheeks@iat.example',
      'pinkcheeks@iat.example',
    ]) {
      expect(await dir.lookupRecipient(address)).toEqual({
        kind: 'mailbox',
        address: 'rose.pinkcheeks@iat.example',
        mailboxId: id,
        region: 'local',
        quotaBytes: null,
      });
    }
    expect(await dir.listAliases(operator, D)).toEqual([
      {
        address: 'pinkcheeks@iat.example',
        kind: 'generated',
        targets: ['rose.pinkcheeks@iat.example'],
        ambiguous: false,
      },
      {
        address: 'r.pinkcheeks@iat.example',
        kind: 'generated',
        targets: ['rose.pinkcheeks@iat.example'],
        ambiguous: false,
      },
    ]);
    const { total, mailboxes } = await dir.listMailboxes(operator, D);
    expect(total).toBe(2);
    expect(mailboxes.map((m) => [m.address, m.kind, m.firstName, m.lastName, m.state])).toEqual([
      ['postmaster@iat.example', 'role', null, null, 'active'],
      ['rose.pinkcheeks@iat.example', 'personal', 'Rose', 'Pinkcheeks', 'active'],
    ]);
  });

  it("Nicolò D'Amico gets nicolo.damico@ (ASCII, apostrophe dropped)", async () => {
    const dir = await directory();
    const created = await dir.addMailbox(operator, person('Nicolò', "D'Amico"));
    expect(created.address).toBe('nicolo.damico@iat.example');
    expect(created.aliases.map((a) => a.address)).toEqual(['n.damico@iat.example', 'damico@iat.example']);
    expect(await dir.lookupRecipient('damico@iat.example')).toMatchObject({
      kind: 'mailbox',
      address: 'nicolo.damico@iat.example',
    });
    const [row] = (await dir.listMailboxes(operator, D, { search: 'nicolo' })).mailboxes;
    expect(row).toMatchObject({ firstName: 'Nicolò', lastName: "D'Amico" });
  });

  it('refuses names that give no address, unless the address is given', async () => {
    const dir = await directory();
    await expectCode(dir.addMailbox(operator, person('Rose', '')), 'invalid');
    await expectCode(dir.addMailbox(operator, person('---', 'Pinkcheeks')), 'invalid');
    await expectCode(
      dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { localPart: 'a..b' })),
      'invalid',
    );
    await expectCode(dir.addMailbox(operator, person('🌹', 'Pinkcheeks')), 'invalid');
    // The error says to give the address explicitly: then the mailbox is created, without generated aliases.
    const created = await dir.addMailbox(operator, person('🌹', 'Pinkcheeks', { localPart: 'rose' }));
    expect(created).toMatchObject({ address: 'rose@iat.example', aliases: [], skippedAliases: [] });
    expect((await dir.listMailboxes(operator, D)).total).toBe(2);
    // A name too long for first.last@ also works with an explicit address.
    const long = 'Wolfeschlegelsteinhausenbergerdorff';
    const err = await expectCode(dir.addMailbox(operator, person(`${long} Hubert`, long)), 'invalid');
    expect(err.message).toMatch(/--address/);
    expect(
      (await dir.addMailbox(operator, person(`${long} Hubert`, long, { localPart: 'hubert' }))).address,
    ).toBe('hubert@iat.example');
    // Renaming such a person to another explicit address works too.
    const renamed = await dir.renameMailbox(operator, 'rose@iat.example', { localPart: 'rosa' });
    expect(renamed).toMatchObject({ address: 'rosa@iat.example', legacy: 'rose@iat.example', aliases: [] });
  });

  it('refuses a mailbox in a domain that is not hosted', async () => {
    const dir = await directory();
    await expectCode(
      dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { domain: 'nope.example' })),
      'not-found',
    );
  });
});

describe('ambiguous generated aliases', () => {
  const mario = ['Mario', 'Rossi'] as const;
  const marco = ['Marco', 'Rossi'] as const;
  const luca = ['Luca', 'Rossi'] as const;

  interface AmbiguityCase {
    name: string;
    people: Array<readonly [string, string]>;
    /** Alias local part -> local parts of its candidates, sorted. */
    ambiguous: Record<string, string[]>;
    /** Alias local part -> the one local part it resolves to. */
    resolves: Record<string, string>;
  }

  it.each<AmbiguityCase>([
    {
      name: 'Mario Rossi then Marco Rossi',
      people: [mario, marco],
      ambiguous: { rossi: ['marco.rossi', 'mario.rossi'], 'm.rossi': ['marco.rossi', 'mario.rossi'] },
      resolves: {},
    },
    {
      name: 'Mario Rossi and Luca Rossi',
      people: [mario, luca],
      ambiguous: { rossi: ['luca.rossi', 'mario.rossi'] },
      resolves: { 'm.rossi': 'mario.rossi', 'l.rossi': 'luca.rossi' },
    },
    {
      name: 'three Rossis',
      people: [mario, marco, luca],
      ambiguous: {
        rossi: ['luca.rossi', 'marco.rossi', 'mario.rossi'],
        'm.rossi': ['marco.rossi', 'mario.rossi'],
      },
      resolves: { 'l.rossi': 'luca.rossi' },
    },
  ])('$name', async ({ people, ambiguous, resolves }) => {
    const dir = await directory();
    const results = [];
    for (const [first, lastName] of people)
      results.push(await dir.addMailbox(operator, person(first, lastName)));

    const aliases = await generated(dir);
    for (const [local, targets] of Object.entries(ambiguous)) {
      expect(aliases[local], local).toEqual({ targets, ambiguous: true });
      const found = await dir.lookupRecipient(`${local}@${D}`);
      expect(found.kind).toBe('ambiguous');
      if (found.kind !== 'ambiguous') throw new Error('unreachable');
      expect([...found.candidates].sort()).toEqual(targets.map((t) => `${t}@${D}`));
      // The creation that made the alias ambiguous reports it to the admin, with every candidate.
      const reported = results
        .flatMap((r) => r.aliases)
        .filter((a) => a.address === `${local}@${D}`)
        .at(-1);
      expect(reported?.ambiguous).toBe(true);
      expect([...(reported?.candidates ?? [])].sort()).toEqual(targets.map((t) => `${t}@${D}`));
    }
    for (const [local, owner] of Object.entries(resolves)) {
      expect(aliases[local], local).toEqual({ targets: [owner], ambiguous: false });
      expect(await dir.lookupRecipient(`${local}@${D}`)).toMatchObject({
        kind: 'mailbox',
        address: `${owner}@${D}`,
      });
    }
    // Official addresses are never ambiguous.
    for (const [first] of people) {
      expect(await dir.lookupRecipient(`${first.toLowerCase()}.rossi@${D}`)).toMatchObject({
        kind: 'mailbox',
        address: `${first.toLowerCase()}.rossi@${D}`,
      });
    }
  });

  it.each([
    { how: 'removeMailbox', purge: false },
    { how: 'removeMailbox --purge', purge: true },
  ])('removing one of two candidates ($how) resolves the ambiguity', async ({ purge }) => {
    const dir = await directory();
    await dir.addMailbox(operator, person(...mario));
    await dir.addMailbox(operator, person(...marco));
    expect((await dir.lookupRecipient(`rossi@${D}`)).kind).toBe('ambiguous');

    const removed = await dir.removeMailbox(operator, `marco.rossi@${D}`, { purge });
    expect(removed.purged).toBe(purge);
    expect(await generated(dir)).toEqual({
      'm.rossi': { targets: ['mario.rossi'], ambiguous: false },
      rossi: { targets: ['mario.rossi'], ambiguous: false },
    });
    const marioId = await mailboxId(dir, `mario.rossi@${D}`);
    for (const alias of [`rossi@${D}`, `m.rossi@${D}`]) {
      expect(await dir.lookupRecipient(alias)).toMatchObject({
        kind: 'mailbox',
        address: `mario.rossi@${D}`,
        mailboxId: marioId,
      });
    }
  });

  it('removing one of three candidates leaves the alias ambiguous between the other two', async () => {
    const dir = await directory();
    for (const [first, last] of [mario, marco, luca]) await dir.addMailbox(operator, person(first, last));
    await dir.removeMailbox(operator, `luca.rossi@${D}`);
    expect(await generated(dir)).toEqual({
      'm.rossi': { targets: ['marco.rossi', 'mario.rossi'], ambiguous: true },
      rossi: { targets: ['marco.rossi', 'mario.rossi'], ambiguous: true },
    });
    expect(await dir.lookupRecipient(`l.rossi@${D}`)).toEqual({
      kind: 'unknown',
      domain: D,
      region: 'local',
    });
  });

  it('a second Rose Pinkcheeks needs --address; then the generated aliases become ambiguous', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    const err = await expectCode(dir.addMailbox(operator, person('Rose', 'Pinkcheeks')), 'duplicate');
    expect(err.message).toMatch(/rose\.pinkcheeks@iat\.example already exists/);
    expect(err.message).toMatch(/--address/);
    expect((await dir.listMailboxes(operator, D)).total).toBe(2);

    const second = await dir.addMailbox(
      operator,
      person('Rose', 'Pinkcheeks', { localPart: 'rose.pinkcheeks2' }),
    );
    expect(second.address).toBe('rose.pinkcheeks2@iat.example');
    const both = ['rose.pinkcheeks2@iat.example', 'rose.pinkcheeks@iat.example'];
    expect(second.aliases.map((a) => [a.address, a.ambiguous, [...a.candidates].sort()])).toEqual([
      ['r.pinkcheeks@iat.example', true, both],
      ['pinkcheeks@iat.example', true, both],
    ]);
    const aliases = await dir.listAliases(operator, D);
    expect(aliases.map((a) => [a.address, a.ambiguous, [...a.targets].sort()])).toEqual([
      ['pinkcheeks@iat.example', true, both],
      ['r.pinkcheeks@iat.example', true, both],
    ]);
    const found = await dir.lookupRecipient('pinkcheeks@iat.example');
    expect(found.kind === 'ambiguous' && [...found.candidates].sort()).toEqual(both);
    // Each official address still names exactly one mailbox.
    const ids = new Set([await mailboxId(dir, both[0] ?? ''), await mailboxId(dir, both[1] ?? '')]);
    expect(ids.size).toBe(2);
    for (const address of both) {
      expect(await dir.lookupRecipient(address)).toMatchObject({ kind: 'mailbox', address });
    }
  });

  it('a generated alias that is already another address is skipped, never made ambiguous', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, { domain: D, kind: 'role', localPart: 'rossi' });
    const mario = await dir.addMailbox(operator, person('Mario', 'Rossi'));
    expect(mario.skippedAliases).toEqual([`rossi@${D}`]);
    expect(mario.aliases.map((a) => a.address)).toEqual([`m.rossi@${D}`]);
    expect(await dir.lookupRecipient(`rossi@${D}`)).toMatchObject({ kind: 'mailbox', address: `rossi@${D}` });
  });
});

describe('role mailboxes and postmaster@', () => {
  it('every domain has postmaster@ from its creation, which cannot be removed or renamed', async () => {
    const dir = await directory();
    const found = await dir.lookupRecipient(`postmaster@${D}`);
    expect(found).toMatchObject({ kind: 'mailbox', address: `postmaster@${D}`, region: 'local' });
    const [pm] = (await dir.listMailboxes(operator, D)).mailboxes;
    expect(pm).toMatchObject({
      address: `postmaster@${D}`,
      kind: 'role',
      username: 'postmaster',
      state: 'active',
    });

    const err = await expectCode(dir.removeMailbox(operator, `postmaster@${D}`), 'conflict');
    expect(err.message).toMatch(/postmaster@/);
    await expectCode(dir.removeMailbox(operator, `postmaster@${D}`, { purge: true }), 'conflict');
    await expectCode(dir.renameMailbox(operator, `postmaster@${D}`, { localPart: 'pm' }), 'conflict');
    expect(await dir.lookupRecipient(`postmaster@${D}`)).toEqual(found);
  });

  it('postmaster@ cannot log in until an admin sets its password', SLOW, async () => {
    const dir = await directory();
    expect(await dir.authenticateMailbox(`postmaster@${D}`, PW)).toBeNull();
    await dir.setPassword(operator, `postmaster@${D}`, PW);
    expect(await dir.authenticateMailbox(`postmaster@${D}`, PW)).toMatchObject({
      address: `postmaster@${D}`,
    });
  });

  it('a role mailbox has the address it is given and no generated aliases', async () => {
    const dir = await directory();
    const created = await dir.addMailbox(operator, { domain: D, kind: 'role', localPart: 'helpdesk' });
    expect(created).toEqual({
      address: `helpdesk@${D}`,
      username: 'helpdesk',
      kind: 'role',
      aliases: [],
      skippedAliases: [],
    });
    expect(await dir.lookupRecipient(`helpdesk@${D}`)).toMatchObject({
      kind: 'mailbox',
      address: `helpdesk@${D}`,
    });
    expect(await dir.listAliases(operator, D)).toEqual([]);
    await expectCode(dir.addMailbox(operator, { domain: D, kind: 'role' }), 'invalid');
    await expectCode(
      dir.addMailbox(operator, { domain: D, kind: 'role', localPart: 'helpdesk' }),
      'duplicate',
    );
  });
});

describe('login names', SLOW, () => {
  it('the official address, an unambiguous alias and username@domain all log in', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { username: 'rose', password: PW }));
    const id = await mailboxId(dir, `rose.pinkcheeks@${D}`);
    for (const login of [
      `rose.pinkcheeks@${D}`,
      `r.pinkcheeks@${D}`,
      `pinkcheeks@${D}`,
      `rose@${D}`,
      `Rose.Pinkcheeks@IAT.Example`,
    ]) {
      expect(await dir.authenticateMailbox(login, PW), login).toEqual({
        address: `rose.pinkcheeks@${D}`,
        mailboxId: id,
      });
    }
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW2)).toBeNull();
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, '')).toBeNull();
    expect(await dir.authenticateMailbox(`nobody@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox('rose.pinkcheeks@other.example', PW)).toBeNull();
    expect(await dir.authenticateMailbox('not an address', PW)).toBeNull();
  });

  it('an ambiguous alias does not log in, not even with the right password', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    await dir.addMailbox(
      operator,
      person('Rose', 'Pinkcheeks', { localPart: 'rose.pinkcheeks2', password: PW }),
    );
    expect(await dir.resolveLogin(`pinkcheeks@${D}`)).toBeNull();
    expect(await dir.authenticateMailbox(`pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`r.pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`rose.pinkcheeks2@${D}`, PW)).toMatchObject({
      address: `rose.pinkcheeks2@${D}`,
    });
  });

  it('usernames are unique within a domain, not across domains', async () => {
    const dir = await directory({}, [D, 'other.example']);
    await dir.addMailbox(operator, person('Mario', 'Rossi', { username: 'mrossi', password: PW }));
    const err = await expectCode(
      dir.addMailbox(operator, person('Marco', 'Rossi', { username: 'mrossi' })),
      'duplicate',
    );
    expect(err.message).toMatch(/mrossi/);
    expect(await dir.lookupRecipient(`marco.rossi@${D}`)).toMatchObject({ kind: 'unknown' });

    await dir.addMailbox(
      operator,
      person('Marco', 'Rossi', { domain: 'other.example', username: 'mrossi', password: PW2 }),
    );
    expect(await dir.authenticateMailbox(`mrossi@${D}`, PW)).toMatchObject({ address: `mario.rossi@${D}` });
    expect(await dir.authenticateMailbox('mrossi@other.example', PW2)).toMatchObject({
      address: 'marco.rossi@other.example',
    });
    expect(await dir.authenticateMailbox('mrossi@other.example', PW)).toBeNull();
  });

  it('a username may not be an address that exists already', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await expectCode(
      dir.addMailbox(operator, person('Paul', 'Green', { username: 'pinkcheeks' })),
      'duplicate',
    );
    await expectCode(dir.addMailbox(operator, person('Paul', 'Green', { username: 'bad name' })), 'invalid');
  });

  it('an expired mailbox cannot log in; one that expires today still can', async () => {
    const dir = await directory({ now: () => new Date('2026-06-15T12:00:00Z') });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW, expiresOn: '2026-06-14' }));
    await dir.addMailbox(operator, person('Paul', 'Green', { password: PW, expiresOn: '2026-06-15' }));
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`paul.green@${D}`, PW)).toMatchObject({
      address: `paul.green@${D}`,
    });
  });

  it('a removed mailbox cannot log in', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).not.toBeNull();
    await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`);
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();
    const row = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    expect(row && dir.mayLogIn(row)).toBe(false);
    expect(row && dir.cramSecretOf(row)).toBeNull();
  });
});

describe('expiry', () => {
  const lateNewYearsEve = new Date('2026-12-31T23:30:00Z');

  it('is inclusive in the configured time zone', SLOW, async () => {
    const rome = await directory({ now: () => lateNewYearsEve, timezone: 'Europe/Rome' });
    const utc = await directory({ now: () => lateNewYearsEve, timezone: 'UTC' });
    for (const dir of [rome, utc]) {
      await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW, expiresOn: '2026-12-31' }));
    }
    // 23:30 UTC is already 00:30 on 1 January in Rome.
    expect(await rome.lookupRecipient(`rose.pinkcheeks@${D}`)).toEqual({
      kind: 'disabled',
      address: `rose.pinkcheeks@${D}`,
      reason: 'expired',
      region: 'local',
    });
    expect(await rome.lookupRecipient(`pinkcheeks@${D}`)).toMatchObject({
      kind: 'disabled',
      reason: 'expired',
    });
    expect((await rome.listMailboxes(operator, D, { search: 'rose' })).mailboxes[0]).toMatchObject({
      expiresOn: '2026-12-31',
      expired: true,
    });
    expect(await rome.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();

    expect(await utc.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
    expect((await utc.listMailboxes(operator, D, { search: 'rose' })).mailboxes[0]?.expired).toBe(false);
    expect(await utc.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).not.toBeNull();

    // Removing the expiration date re-enables the mailbox.
    expect(await rome.setExpiry(operator, `rose.pinkcheeks@${D}`, null)).toEqual({ expiresOn: null });
    expect(await rome.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
    expect(await rome.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).not.toBeNull();
  });

  it('ends at midnight of the next day in the time zone, not before', async () => {
    let now = new Date('2026-12-31T22:59:59Z'); // 23:59:59 in Rome
    const dir = await directory({ now: () => now, timezone: 'Europe/Rome' });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { expiresOn: '2026-12-31' }));
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
    now = new Date('2026-12-31T23:00:00Z');
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({
      kind: 'disabled',
      reason: 'expired',
    });
    // A later date re-enables it.
    await dir.setExpiry(operator, `rose.pinkcheeks@${D}`, '2027-01-01');
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
  });

  it.each(['2026-02-30', '31/12/2026', '2026-13-01', '2026-1-5', '2026-12-31T00:00:00Z', 'tomorrow'])(
    'refuses the date %s',
    async (date) => {
      const dir = await directory();
      await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { expiresOn: '2027-06-30' }));
      await expectCode(dir.setExpiry(operator, `rose.pinkcheeks@${D}`, date), 'invalid');
      await expectCode(dir.addMailbox(operator, person('Paul', 'Green', { expiresOn: date })), 'invalid');
      const { mailboxes } = await dir.listMailboxes(operator, D);
      expect(mailboxes.map((m) => [m.address, m.expiresOn])).toEqual([
        [`postmaster@${D}`, null],
        [`rose.pinkcheeks@${D}`, '2027-06-30'],
      ]);
    },
  );

  it('accepts 29 February in a leap year only', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    expect(await dir.setExpiry(operator, `rose.pinkcheeks@${D}`, '2028-02-29')).toEqual({
      expiresOn: '2028-02-29',
    });
    await expectCode(dir.setExpiry(operator, `rose.pinkcheeks@${D}`, '2027-02-29'), 'invalid');
  });
});

describe('removal and purge', () => {
  it('disables at once, keeps the mail for the retention period, then purges', SLOW, async () => {
    let now = new Date('2026-05-01T08:00:00Z');
    const dir = await directory({ now: () => now, retentionDays: 30 });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    const id = await mailboxId(dir, `rose.pinkcheeks@${D}`);

    const removed = await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`);
    expect(removed).toEqual({
      address: `rose.pinkcheeks@${D}`,
      mailboxId: id,
      purged: false,
      purgeAfter: '2026-05-31T08:00:00.000Z',
    });
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toEqual({
      kind: 'disabled',
      address: `rose.pinkcheeks@${D}`,
      reason: 'removed',
      region: 'local',
    });
    // Its generated aliases let go of it (nobody else had them, so they are gone).
    expect(await dir.lookupRecipient(`pinkcheeks@${D}`)).toMatchObject({ kind: 'unknown' });
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();
    const listed = (await dir.listMailboxes(operator, D)).mailboxes.find(
      (m) => m.address === removed.address,
    );
    expect(listed).toMatchObject({ state: 'removed', purgeAfter: '2026-05-31T08:00:00.000Z' });
    expect((await dir.listMailboxes(operator, D, { includeRemoved: false })).total).toBe(1);

    const again = await expectCode(dir.removeMailbox(operator, `rose.pinkcheeks@${D}`), 'conflict');
    expect(again.message).toMatch(/already removed/);
    // The address is still taken while the mail is kept.
    await expectCode(dir.addMailbox(operator, person('Rose', 'Pinkcheeks')), 'duplicate');

    now = new Date('2026-05-31T07:59:59Z');
    expect(await dir.purgeExpiredRemovals(operator)).toEqual([]);
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'disabled' });

    now = new Date('2026-05-31T08:00:01Z');
    expect(await dir.purgeExpiredRemovals(operator)).toEqual([
      { address: `rose.pinkcheeks@${D}`, mailboxId: id },
    ]);
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toEqual({
      kind: 'unknown',
      domain: D,
      region: 'local',
    });
    expect(await dir.resolveLogin(`rose.pinkcheeks@${D}`)).toBeNull();
    expect((await dir.listMailboxes(operator, D)).total).toBe(1);
    expect(await dir.purgeExpiredRemovals(operator)).toEqual([]);

    // The address can be used again, by a new mailbox.
    const reborn = await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    expect(reborn.address).toBe(`rose.pinkcheeks@${D}`);
    expect(reborn.aliases.every((a) => !a.ambiguous)).toBe(true);
    expect(await mailboxId(dir, `rose.pinkcheeks@${D}`)).not.toBe(id);
  });

  it('--purge deletes at once and frees the address', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    const id = await mailboxId(dir, `rose.pinkcheeks@${D}`);
    expect(await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`, { purge: true })).toEqual({
      address: `rose.pinkcheeks@${D}`,
      mailboxId: id,
      purged: true,
      purgeAfter: null,
    });
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'unknown' });
    expect(await dir.listAliases(operator, D)).toEqual([]);
    expect((await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'))).address).toBe(
      `rose.pinkcheeks@${D}`,
    );
  });

  it('--purge also purges a mailbox already removed', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`);
    expect((await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`, { purge: true })).purged).toBe(true);
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'unknown' });
  });

  it('refuses to remove what is not a mailbox', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await expectCode(dir.removeMailbox(operator, `nobody@${D}`), 'not-found');
    await expectCode(dir.removeMailbox(operator, `pinkcheeks@${D}`), 'not-found');
    await expectCode(dir.removeMailbox(operator, 'rose.pinkcheeks@nope.example'), 'not-found');
    await expectCode(dir.removeMailbox(operator, 'not an address'), 'invalid');
    expect(await dir.lookupRecipient(`pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
  });
});

describe('domains', () => {
  it('adds domains in normalised form, in the local region by default', async () => {
    const dir = await directory({}, []);
    expect(await dir.addDomain(operator, 'IAT.Example')).toEqual({ name: D, region: 'local' });
    expect(await dir.addDomain(operator, 'bücher.example')).toEqual({
      name: 'xn--bcher-kva.example',
      region: 'local',
    });
    const listed = await dir.listDomains(operator);
    expect(listed.map((d) => [d.name, d.region, d.mailboxes])).toEqual([
      [D, 'local', 1],
      ['xn--bcher-kva.example', 'local', 1],
    ]);
    expect(await dir.lookupRecipient('postmaster@bücher.example')).toMatchObject({
      kind: 'mailbox',
      address: 'postmaster@xn--bcher-kva.example',
    });
  });

  it('refuses a duplicate domain', async () => {
    const dir = await directory();
    await expectCode(dir.addDomain(operator, D), 'duplicate');
    await expectCode(dir.addDomain(operator, 'IAT.EXAMPLE'), 'duplicate');
    expect((await dir.listDomains(operator)).map((d) => d.name)).toEqual([D]);
  });

  it.each([
    'localhost',
    'example.org.',
    '-bad.example',
    'a..example',
    '',
    'exa mple.org',
    '192.0.2.1',
    'a_b.example',
  ])('refuses the invalid domain name %j', async (name) => {
    const dir = await directory({}, []);
    await expectCode(dir.addDomain(operator, name), 'invalid');
    expect(await dir.listDomains(operator)).toEqual([]);
  });

  it('refuses an unknown region, and accepts it once added', async () => {
    const dir = await directory({}, []);
    const err = await expectCode(dir.addDomain(operator, D, { region: 'pisa' }), 'not-found');
    expect(err.message).toMatch(/pisa/);
    expect(await dir.listDomains(operator)).toEqual([]);
    await dir.addRegion(operator, 'pisa', 'Pisa');
    expect(await dir.addDomain(operator, D, { region: 'pisa' })).toEqual({ name: D, region: 'pisa' });
    expect(await dir.lookupRecipient(`postmaster@${D}`)).toMatchObject({ kind: 'mailbox', region: 'pisa' });
  });

  it('removes a domain with only postmaster@ without --force', async () => {
    const dir = await directory();
    const pm = await mailboxId(dir, `postmaster@${D}`);
    expect(await dir.removeDomain(operator, D)).toEqual({ mailboxIds: [pm] });
    expect(await dir.listDomains(operator)).toEqual([]);
    expect(await dir.lookupRecipient(`postmaster@${D}`)).toEqual({ kind: 'not-hosted', domain: D });
    await expectCode(dir.removeDomain(operator, D), 'not-found');
  });

  it('refuses to remove a domain with mailboxes unless forced, then removes everything in it', async () => {
    const dir = await directory({}, [D, 'other.example']);
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addMailbox(operator, { domain: D, kind: 'role', localPart: 'helpdesk' });
    await dir.addAlias(operator, `info@${D}`, [`helpdesk@${D}`]);
    // An alias elsewhere that leads only into the domain goes with it.
    await dir.addAlias(operator, 'rose@other.example', [`rose.pinkcheeks@${D}`]);
    await dir.addAlias(operator, 'team@other.example', [`rose.pinkcheeks@${D}`, 'someone@remote.example']);

    const err = await expectCode(dir.removeDomain(operator, D), 'conflict');
    expect(err.message).toMatch(/2 mailboxes/);
    expect(err.message).toMatch(/--force/);
    expect((await dir.listMailboxes(operator, D)).total).toBe(3);

    const ids = [
      await mailboxId(dir, `postmaster@${D}`),
      await mailboxId(dir, `rose.pinkcheeks@${D}`),
      await mailboxId(dir, `helpdesk@${D}`),
    ];
    const { mailboxIds } = await dir.removeDomain(operator, D, { force: true });
    expect([...mailboxIds].sort()).toEqual([...ids].sort());
    expect((await dir.listDomains(operator)).map((d) => d.name)).toEqual(['other.example']);
    for (const address of [`rose.pinkcheeks@${D}`, `pinkcheeks@${D}`, `info@${D}`]) {
      expect(await dir.lookupRecipient(address)).toEqual({ kind: 'not-hosted', domain: D });
    }
    expect(await dir.lookupRecipient('rose@other.example')).toMatchObject({ kind: 'unknown' });
    const team = await dir.lookupRecipient('team@other.example');
    expect(team).toMatchObject({
      kind: 'alias',
      targets: [{ kind: 'address', address: 'someone@remote.example' }],
    });
    // The domain can be created again, empty.
    await dir.addDomain(operator, D);
    expect((await dir.listMailboxes(operator, D)).total).toBe(1);
    expect(await dir.listAliases(operator, D)).toEqual([]);
  });
});

describe('rename', () => {
  it('keeps the old official address as a legacy alias that still delivers and logs in', SLOW, async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    const id = await mailboxId(dir, `rose.pinkcheeks@${D}`);
    const renamed = await dir.renameMailbox(operator, `rose.pinkcheeks@${D}`, { lastName: 'Redcheeks' });
    expect(renamed).toMatchObject({
      address: `rose.redcheeks@${D}`,
      legacy: `rose.pinkcheeks@${D}`,
      username: 'rose.pinkcheeks',
      kind: 'personal',
    });
    expect(renamed.aliases.map((a) => a.address)).toEqual([`r.redcheeks@${D}`, `redcheeks@${D}`]);

    for (const address of [
      `rose.redcheeks@${D}`,
      `rose.pinkcheeks@${D}`,
      `redcheeks@${D}`,
      `pinkcheeks@${D}`,
    ]) {
      expect(await dir.lookupRecipient(address), address).toMatchObject({
        kind: 'mailbox',
        address: `rose.redcheeks@${D}`,
        mailboxId: id,
      });
    }
    const legacy = (await dir.listAliases(operator, D, { kinds: ['legacy'] }))[0];
    expect(legacy).toEqual({
      address: `rose.pinkcheeks@${D}`,
      kind: 'legacy',
      targets: [`rose.redcheeks@${D}`],
      ambiguous: false,
    });
    const expected = { address: `rose.redcheeks@${D}`, mailboxId: id };
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toEqual(expected);
    expect(await dir.authenticateMailbox(`rose.redcheeks@${D}`, PW)).toEqual(expected);
    const { mailboxes } = await dir.listMailboxes(operator, D, { search: 'rose' });
    expect(mailboxes.map((m) => [m.address, m.lastName])).toEqual([[`rose.redcheeks@${D}`, 'Redcheeks']]);

    // The legacy address stays taken.
    await expectCode(dir.addMailbox(operator, person('Rose', 'Pinkcheeks')), 'duplicate');
    // Removing the mailbox takes the legacy address with it.
    await dir.removeMailbox(operator, `rose.redcheeks@${D}`);
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'unknown' });
  });

  it('refuses a new address that is taken, or the same address', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addMailbox(operator, person('Paul', 'Green'));
    await expectCode(
      dir.renameMailbox(operator, `rose.pinkcheeks@${D}`, { localPart: 'paul.green' }),
      'duplicate',
    );
    await expectCode(
      dir.renameMailbox(operator, `rose.pinkcheeks@${D}`, { localPart: 'green' }),
      'duplicate',
    );
    await expectCode(dir.renameMailbox(operator, `rose.pinkcheeks@${D}`, { firstName: 'Rose' }), 'invalid');
    await expectCode(dir.renameMailbox(operator, `nobody@${D}`, { lastName: 'X' }), 'not-found');
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
    expect(await dir.listAliases(operator, D, { kinds: ['legacy'] })).toEqual([]);
  });
});

describe('aliases, forwards and list aliases', () => {
  it('a manual alias leads to local mailboxes and remote addresses', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addMailbox(operator, person('Paul', 'Green'));
    const rose = await mailboxId(dir, `rose.pinkcheeks@${D}`);
    const paul = await mailboxId(dir, `paul.green@${D}`);

    const view = await dir.addAlias(operator, `Info@${D}`, [`pinkcheeks@${D}`, 'help@partner.example']);
    expect(view.address).toBe(`info@${D}`);
    expect(view.kind).toBe('manual');
    // A generated alias as target is stored as the mailbox it names.
    expect([...view.targets].sort()).toEqual(['help@partner.example', `rose.pinkcheeks@${D}`]);

    const found = await dir.lookupRecipient(`info@${D}`);
    expect(found.kind).toBe('alias');
    if (found.kind !== 'alias') throw new Error('unreachable');
    expect([...found.targets].sort((a, b) => a.address.localeCompare(b.address))).toEqual([
      { kind: 'address', address: 'help@partner.example' },
      { kind: 'mailbox', address: `rose.pinkcheeks@${D}`, mailboxId: rose },
    ]);

    // Adding to an existing manual alias extends it.
    const extended = await dir.addAlias(operator, `info@${D}`, [`paul.green@${D}`]);
    expect(extended.targets).toHaveLength(3);
    const again = await dir.lookupRecipient(`info@${D}`);
    expect(
      again.kind === 'alias' && again.targets.some((t) => t.kind === 'mailbox' && t.mailboxId === paul),
    ).toBe(true);
    // The same target twice is a duplicate, and changes nothing.
    await expectCode(dir.addAlias(operator, `info@${D}`, ['help@partner.example']), 'duplicate');
    await expectCode(
      dir.addAlias(operator, `news@${D}`, ['a@partner.example', 'A@Partner.example']),
      'duplicate',
    );
    expect(await dir.lookupRecipient(`news@${D}`)).toMatchObject({ kind: 'unknown' });
    const unchanged = await dir.lookupRecipient(`info@${D}`);
    expect(unchanged.kind === 'alias' && unchanged.targets.length).toBe(3);
    // An alias is not a login name.
    expect(await dir.resolveLogin(`info@${D}`)).toBeNull();
  });

  it('refuses targets that are unknown, ambiguous, disabled or the alias itself', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Mario', 'Rossi'));
    await dir.addMailbox(operator, person('Marco', 'Rossi'));
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`);

    await expectCode(dir.addAlias(operator, `team@${D}`, [`nobody@${D}`]), 'not-found');
    const ambiguous = await expectCode(dir.addAlias(operator, `team@${D}`, [`rossi@${D}`]), 'invalid');
    expect(ambiguous.message).toMatch(/ambiguous/);
    expect(ambiguous.message).toMatch(/mario\.rossi@iat\.example/);
    expect(ambiguous.message).toMatch(/marco\.rossi@iat\.example/);
    await expectCode(dir.addAlias(operator, `team@${D}`, [`rose.pinkcheeks@${D}`]), 'invalid');
    await expectCode(dir.addAlias(operator, `team@${D}`, [`team@${D}`, `mario.rossi@${D}`]), 'not-found');
    await expectCode(dir.addAlias(operator, `team@${D}`, []), 'invalid');
    await expectCode(dir.addAlias(operator, `team@${D}`, ['not an address']), 'invalid');
    await expectCode(dir.addAlias(operator, 'team@nope.example', [`mario.rossi@${D}`]), 'not-found');
    // The alias address may not be anything else already.
    await expectCode(dir.addAlias(operator, `mario.rossi@${D}`, ['x@remote.example']), 'duplicate');
    await expectCode(dir.addAlias(operator, `rossi@${D}`, ['x@remote.example']), 'duplicate');
    expect(await dir.lookupRecipient(`team@${D}`)).toMatchObject({ kind: 'unknown' });
    expect((await dir.listAliases(operator, D, { kinds: ['manual'] })).length).toBe(0);
  });

  it('an alias pointing to itself is refused', async () => {
    const dir = await directory();
    await dir.addAlias(operator, `team@${D}`, ['x@remote.example']);
    await expectCode(dir.addAlias(operator, `team@${D}`, [`team@${D}`]), 'invalid');
  });

  it('a forward sends an address to a mailbox on another server', async () => {
    const dir = await directory();
    const view = await dir.addForward(operator, `old.user@${D}`, 'old.user@legacy.example');
    expect(view).toEqual({
      address: `old.user@${D}`,
      kind: 'forward',
      targets: ['old.user@legacy.example'],
      ambiguous: false,
    });
    expect(await dir.lookupRecipient(`old.user@${D}`)).toEqual({
      kind: 'forward',
      address: `old.user@${D}`,
      target: 'old.user@legacy.example',
      region: 'local',
    });
    // A forward is not for local mailboxes, and one address is one thing.
    await expectCode(dir.addForward(operator, `x@${D}`, `postmaster@${D}`), 'invalid');
    await expectCode(dir.addForward(operator, `old.user@${D}`, 'other@legacy.example'), 'duplicate');
    await expectCode(
      dir.addMailbox(operator, { domain: D, kind: 'role', localPart: 'old.user' }),
      'duplicate',
    );
  });

  it('a list alias sends an address to the list server', async () => {
    const dir = await directory();
    await dir.addListAlias(operator, `staff@${D}`, 'staff@lists.example');
    expect(await dir.lookupRecipient(`staff@${D}`)).toEqual({
      kind: 'list',
      address: `staff@${D}`,
      target: 'staff@lists.example',
      region: 'local',
    });
    expect((await dir.listAliases(operator, D, { kinds: ['list'] })).map((a) => a.address)).toEqual([
      `staff@${D}`,
    ]);
  });

  it('removeAlias removes aliases, forwards and list aliases, but not official addresses', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addAlias(operator, `info@${D}`, [`rose.pinkcheeks@${D}`]);
    await dir.addForward(operator, `old.user@${D}`, 'old.user@legacy.example');
    await dir.addListAlias(operator, `staff@${D}`, 'staff@lists.example');

    for (const address of [`info@${D}`, `old.user@${D}`, `staff@${D}`]) {
      await dir.removeAlias(operator, address);
      expect(await dir.lookupRecipient(address)).toEqual({ kind: 'unknown', domain: D, region: 'local' });
    }
    const err = await expectCode(dir.removeAlias(operator, `rose.pinkcheeks@${D}`), 'invalid');
    expect(err.message).toMatch(/mailbox remove/);
    await expectCode(dir.removeAlias(operator, `info@${D}`), 'not-found');
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'mailbox' });
    expect((await dir.listAliases(operator, D)).map((a) => a.kind)).toEqual(['generated', 'generated']);
  });

  it('removing the only target of a manual alias removes the alias', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addAlias(operator, `info@${D}`, [`rose.pinkcheeks@${D}`]);
    await dir.removeMailbox(operator, `rose.pinkcheeks@${D}`);
    expect(await dir.lookupRecipient(`info@${D}`)).toMatchObject({ kind: 'unknown' });
  });
});

describe('scope of a delegated domain admin', SLOW, () => {
  const A = 'a.example';
  const B = 'b.example';

  async function setUp() {
    // Passwords only where a test logs in: every argon2id hash costs a few hundred milliseconds.
    const dir = await directory({}, [A, B]);
    await dir.addAdmin(operator, { username: 'alice', role: 'domain-admin', domains: [A], password: PW });
    await dir.addMailbox(operator, person('Bob', 'Builder', { domain: B }));
    await dir.addMailbox(operator, person('Ann', 'Able', { domain: A }));
    await dir.addAlias(operator, `info@${B}`, [`bob.builder@${B}`]);
    const alice = await dir.actorForAdmin('alice', '192.0.2.10');
    if (!alice) throw new Error('no actor');
    return { dir, alice };
  }

  /** Everything an operator can see of the directory. */
  async function snapshot(dir: Directory) {
    const bob = await dir.resolveLogin(`bob.builder@${B}`);
    return {
      domains: await dir.listDomains(operator),
      admins: await dir.listAdmins(operator),
      regions: await dir.listRegions(),
      mailboxesA: await dir.listMailboxes(operator, A),
      mailboxesB: await dir.listMailboxes(operator, B),
      aliasesA: await dir.listAliases(operator, A),
      aliasesB: await dir.listAliases(operator, B),
      audit: await dir.listAudit(operator, { limit: 10_000 }),
      bob,
    };
  }

  const onB: Array<[string, (dir: Directory, actor: Actor) => Promise<unknown>]> = [
    ['addMailbox', (d, a) => d.addMailbox(a, person('Eve', 'Intruder', { domain: B, password: PW2 }))],
    [
      'addMailbox (role)',
      (d, a) => d.addMailbox(a, { domain: 'B.Example', kind: 'role', localPart: 'abuse' }),
    ],
    ['removeMailbox', (d, a) => d.removeMailbox(a, `bob.builder@${B}`)],
    ['removeMailbox --purge', (d, a) => d.removeMailbox(a, `BOB.BUILDER@B.EXAMPLE`, { purge: true })],
    ['setPassword', (d, a) => d.setPassword(a, `bob.builder@${B}`, PW2)],
    ['setPassword (postmaster)', (d, a) => d.setPassword(a, `postmaster@${B}`, PW2)],
    ['setExpiry', (d, a) => d.setExpiry(a, `bob.builder@${B}`, '2000-01-01')],
    ['renameMailbox', (d, a) => d.renameMailbox(a, `bob.builder@${B}`, { lastName: 'Gone' })],
    ['addAlias', (d, a) => d.addAlias(a, `sales@${B}`, [`ann.able@${A}`])],
    ['addAlias (extend)', (d, a) => d.addAlias(a, `info@${B}`, [`ann.able@${A}`])],
    ['addForward', (d, a) => d.addForward(a, `old@${B}`, 'old@remote.example')],
    ['addListAlias', (d, a) => d.addListAlias(a, `staff@${B}`, 'staff@lists.example')],
    ['removeAlias', (d, a) => d.removeAlias(a, `info@${B}`)],
    ['removeAlias (generated)', (d, a) => d.removeAlias(a, `builder@${B}`)],
    ['listMailboxes', (d, a) => d.listMailboxes(a, B)],
    ['listAliases', (d, a) => d.listAliases(a, B)],
    ['listAudit (domain)', (d, a) => d.listAudit(a, { domain: B })],
  ];

  const operatorOnly: Array<[string, (dir: Directory, actor: Actor) => Promise<unknown>]> = [
    ['addDomain', (d, a) => d.addDomain(a, 'c.example')],
    ['removeDomain (other)', (d, a) => d.removeDomain(a, B, { force: true })],
    ['removeDomain (own)', (d, a) => d.removeDomain(a, A, { force: true })],
    [
      'addAdmin (operator)',
      (d, a) => d.addAdmin(a, { username: 'mallory', role: 'operator', password: PW2 }),
    ],
    [
      'addAdmin (domain admin)',
      (d, a) => d.addAdmin(a, { username: 'mallory', role: 'domain-admin', domains: [A, B], password: PW2 }),
    ],
    ['listAdmins', (d, a) => d.listAdmins(a)],
    ['removeAdmin', (d, a) => d.removeAdmin(a, 'op')],
    ['setAdminPassword (someone else)', (d, a) => d.setAdminPassword(a, 'op', PW2)],
    ['addRegion', (d, a) => d.addRegion(a, 'pisa')],
    ['purgeExpiredRemovals', (d, a) => d.purgeExpiredRemovals(a)],
    ['listAudit (everything)', (d, a) => d.listAudit(a)],
  ];

  it('the actor carries the admin and the domains read from the directory', async () => {
    const { alice } = await setUp();
    expect(alice).toEqual({ kind: 'domain-admin', name: 'alice', domains: [A], from: '192.0.2.10' });
  });

  it('every operation on another domain fails in the directory layer and changes nothing', async () => {
    const { dir, alice } = await setUp();
    await dir.setPassword(operator, `bob.builder@${B}`, PW);
    const before = await snapshot(dir);
    for (const [name, op] of onB) {
      const err = await expectCode(op(dir, alice), 'forbidden');
      expect(err.message, name).toMatch(/alice may not manage b\.example/);
    }
    expect(await snapshot(dir)).toEqual(before);
    expect(await dir.authenticateMailbox(`bob.builder@${B}`, PW)).toMatchObject({
      address: `bob.builder@${B}`,
    });
    expect(await dir.lookupRecipient(`info@${B}`)).toMatchObject({ kind: 'alias' });
  });

  it('operator-only operations are forbidden to a domain admin and change nothing', async () => {
    const { dir, alice } = await setUp();
    await dir.addAdmin(operator, { username: 'op', role: 'operator', password: PW });
    const before = await snapshot(dir);
    for (const [name, op] of operatorOnly) {
      const err = await expectCode(op(dir, alice), 'forbidden');
      expect(err.message, name).toMatch(/operators only/);
    }
    expect(await snapshot(dir)).toEqual(before);
    expect(await dir.authenticateAdmin('op', PW, '127.0.0.1')).toMatchObject({
      kind: 'operator',
      name: 'op',
    });
  });

  it('a domain admin sees only their own domains', async () => {
    const { dir, alice } = await setUp();
    expect((await dir.listDomains(alice)).map((d) => d.name)).toEqual([A]);
    expect((await dir.listDomains(operator)).map((d) => d.name)).toEqual([A, B]);
  });

  it('the same operations on their own domain work, audited under their name', async () => {
    const { dir, alice } = await setUp();
    await dir.addMailbox(alice, person('Carl', 'Cole', { domain: A, password: PW }));
    await dir.setPassword(alice, `carl.cole@${A}`, PW2);
    await dir.setExpiry(alice, `carl.cole@${A}`, '2030-01-31');
    await dir.renameMailbox(alice, `carl.cole@${A}`, { lastName: 'Coal' });
    await dir.addAlias(alice, `info@${A}`, [`carl.coal@${A}`]);
    await dir.addForward(alice, `old@${A}`, 'old@remote.example');
    await dir.addListAlias(alice, `staff@${A}`, 'staff@lists.example');
    await dir.removeAlias(alice, `staff@${A}`);
    await dir.setPassword(alice, `postmaster@${A}`, PW);
    expect(await dir.authenticateMailbox(`carl.cole@${A}`, PW2)).toMatchObject({ address: `carl.coal@${A}` });
    expect((await dir.listMailboxes(alice, A)).mailboxes.map((m) => m.address)).toEqual([
      `ann.able@${A}`,
      `carl.coal@${A}`,
      `postmaster@${A}`,
    ]);
    expect(
      (await dir.listAliases(alice, A, { kinds: ['manual', 'forward', 'list'] })).map((a) => a.address),
    ).toEqual([`info@${A}`, `old@${A}`]);
    await dir.removeMailbox(alice, `ann.able@${A}`);
    expect(await dir.lookupRecipient(`ann.able@${A}`)).toMatchObject({ kind: 'disabled', reason: 'removed' });

    const audit = await dir.listAudit(alice, { domain: A, limit: 1000 });
    const byAlice = audit.filter((r) => r.actor === 'domain-admin:alice');
    expect(byAlice).toHaveLength(10);
    expect(byAlice.every((r) => r.actorFrom === '192.0.2.10' && r.domain === A)).toBe(true);
    expect(byAlice.map((r) => r.action).sort()).toEqual(
      [
        'alias.add',
        'forward.add',
        'list.add',
        'list.remove',
        'mailbox.add',
        'mailbox.expire',
        'mailbox.passwd',
        'mailbox.passwd',
        'mailbox.remove',
        'mailbox.rename',
      ].sort(),
    );
    // A domain admin may change their own password.
    await dir.setAdminPassword(alice, 'alice', PW2);
    expect(await dir.authenticateAdmin('alice', PW2, '192.0.2.10')).toEqual({ ...alice });
  });

  it('an alias in a.example cannot be created by the b.example admin through a crafted address', async () => {
    const { dir } = await setUp();
    await dir.addAdmin(operator, { username: 'bea', role: 'domain-admin', domains: [B], password: PW });
    const bea = await dir.actorForAdmin('bea', '198.51.100.7');
    if (!bea) throw new Error('no actor');
    const before = await snapshot(dir);
    const forbidden = [
      `sales@${A}`,
      'SALES@A.EXAMPLE',
      'sales@A.example',
      'sales@\uff41.example', // fullwidth a: IDNA maps it to a.example
      `postmaster@${A}`,
      `ann.able@${A}`,
    ];
    for (const address of forbidden) {
      await expectCode(dir.addAlias(bea, address, [`bob.builder@${B}`]), 'forbidden');
      await expectCode(dir.addForward(bea, address, 'x@remote.example'), 'forbidden');
      await expectCode(dir.addListAlias(bea, address, 'x@lists.example'), 'forbidden');
    }
    const malformed = [
      `sales@${A}@${B}`,
      `sales%${A}@${B}`,
      `${A}!sales@${B}`,
      ` sales@${A}`,
      `<sales@${A}>`,
      `sales@${A}.`,
      `"sales@${A}"@${B}`,
      `@${B}:sales@${A}`,
    ];
    for (const address of malformed) {
      await expectCode(dir.addAlias(bea, address, [`bob.builder@${B}`]), 'invalid');
    }
    expect(await snapshot(dir)).toEqual(before);
    expect(await dir.lookupRecipient(`sales@${A}`)).toMatchObject({ kind: 'unknown', domain: A });
  });

  it('a revoked admin gets no actor', async () => {
    const { dir } = await setUp();
    await dir.removeAdmin(operator, 'alice');
    expect(await dir.actorForAdmin('alice', '192.0.2.10')).toBeNull();
    expect(await dir.authenticateAdmin('alice', PW, '192.0.2.10')).toBeNull();
  });
});

describe('credentials', SLOW, () => {
  it('stores an argon2id hash, SCRAM-SHA-256 keys and the encrypted CRAM-MD5 secret, never the password', async () => {
    const key = FederationKey.fromBytes(randomBytes(32));
    const dir = await directory({ key, cramMd5: true });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    const row = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    if (!row?.passwordHash || !row.scramSalt || !row.scramIterations || !row.cramSecret) {
      throw new Error(`credentials missing: ${JSON.stringify(row)}`);
    }
    expect(row.passwordHash.startsWith('$argon2id$')).toBe(true);
    expect(await verifyPassword(row.passwordHash, PW)).toBe(true);
    expect(await verifyPassword(row.passwordHash, PW2)).toBe(false);

    const salt = Buffer.from(row.scramSalt, 'base64');
    expect(salt.length).toBeGreaterThanOrEqual(16);
    expect(row.scramIterations).toBeGreaterThanOrEqual(4096);
    expect(scramKeys(PW, salt, row.scramIterations)).toEqual({
      storedKey: row.scramStoredKey,
      serverKey: row.scramServerKey,
    });
    expect(scramKeys(PW2, salt, row.scramIterations).storedKey).not.toBe(row.scramStoredKey);

    expect(dir.cramSecretOf(row)).toBe(PW);
    expect(key.decrypt(row.cramSecret)).toBe(PW);
    expect(() => FederationKey.fromBytes(randomBytes(32)).decrypt(row.cramSecret ?? '')).toThrow();
    expect(JSON.stringify(row)).not.toContain(PW);
  });

  it('stores no CRAM-MD5 secret when CRAM-MD5 is off', async () => {
    const dir = await directory({ cramMd5: false });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    const row = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    expect(row?.cramSecret).toBeNull();
    expect(row && dir.cramSecretOf(row)).toBeNull();
    expect(row?.scramStoredKey).toBeTruthy();
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).not.toBeNull();
  });

  it('gives no CRAM-MD5 secret for a mailbox that may not log in', async () => {
    const dir = await directory({ now: () => new Date('2026-06-15T12:00:00Z') });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW, expiresOn: '2026-06-14' }));
    const row = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    expect(row?.cramSecret).toBeTruthy();
    expect(row && dir.cramSecretOf(row)).toBeNull();
  });

  it('setPassword replaces every credential', async () => {
    const dir = await directory();
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: PW }));
    const before = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    await dir.setPassword(operator, `rose.pinkcheeks@${D}`, PW2);
    const after = await dir.resolveLogin(`rose.pinkcheeks@${D}`);
    if (!before || !after) throw new Error('no mailbox');
    for (const column of [
      'passwordHash',
      'scramSalt',
      'scramStoredKey',
      'scramServerKey',
      'cramSecret',
    ] as const) {
      expect(after[column], column).not.toBe(before[column]);
    }
    expect(dir.cramSecretOf(after)).toBe(PW2);
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW)).toBeNull();
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, PW2)).not.toBeNull();
  });

  it('refuses short passwords and passwords with line breaks', async () => {
    const dir = await directory();
    for (const bad of ['short', '1234567', 'line\nbreak-password', 'nul\0-in-the-password']) {
      await expectCode(dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: bad })), 'invalid');
    }
    expect(await dir.lookupRecipient(`rose.pinkcheeks@${D}`)).toMatchObject({ kind: 'unknown' });
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks', { password: 'x7Kq-2mP' }));
    await expectCode(dir.setPassword(operator, `rose.pinkcheeks@${D}`, 'short'), 'invalid');
    expect(await dir.authenticateMailbox(`rose.pinkcheeks@${D}`, 'x7Kq-2mP')).not.toBeNull();
    await expectCode(dir.setPassword(operator, `nobody@${D}`, PW), 'not-found');
  });
});

describe('audit', SLOW, () => {
  it('every change writes one row with actor, origin, action and target, and never a password', async () => {
    const at = new Date('2026-04-01T09:00:00Z');
    const dir = await directory({ now: () => at }, []);
    const op: Actor = { kind: 'operator', name: 'olga', from: '203.0.113.5' };
    const secrets = [PW, PW2, 'admin-password-1', 'admin-password-2'];

    await dir.addDomain(op, D);
    await dir.addMailbox(op, person('Rose', 'Pinkcheeks', { password: PW }));
    await dir.setPassword(op, `rose.pinkcheeks@${D}`, PW2);
    await dir.setExpiry(op, `rose.pinkcheeks@${D}`, '2027-01-31');
    await dir.addAlias(op, `info@${D}`, [`rose.pinkcheeks@${D}`]);
    await dir.addForward(op, `old@${D}`, 'old@remote.example');
    await dir.addListAlias(op, `staff@${D}`, 'staff@lists.example');
    await dir.removeAlias(op, `info@${D}`);
    await dir.renameMailbox(op, `rose.pinkcheeks@${D}`, { lastName: 'Redcheeks' });
    await dir.removeMailbox(op, `rose.redcheeks@${D}`);
    await dir.addAdmin(op, { username: 'root', role: 'operator', password: 'admin-password-1' });
    await dir.setAdminPassword(op, 'root', 'admin-password-2');
    await dir.addRegion(op, 'pisa');
    // A refused change writes nothing.
    await expectCode(dir.addDomain(op, D), 'duplicate');
    await expectCode(dir.setPassword(op, `rose.redcheeks@${D}`, 'short'), 'invalid');

    const rows = await dir.listAudit(operator, { limit: 1000 });
    const mine = rows.filter((r) => r.actor === 'operator:olga');
    expect(mine.map((r) => [r.action, r.target, r.domain]).sort()).toEqual(
      [
        ['domain.add', D, D],
        ['mailbox.add', `rose.pinkcheeks@${D}`, D],
        ['mailbox.passwd', `rose.pinkcheeks@${D}`, D],
        ['mailbox.expire', `rose.pinkcheeks@${D}`, D],
        ['alias.add', `info@${D}`, D],
        ['forward.add', `old@${D}`, D],
        ['list.add', `staff@${D}`, D],
        ['alias.remove', `info@${D}`, D],
        ['mailbox.rename', `rose.redcheeks@${D}`, D],
        ['mailbox.remove', `rose.redcheeks@${D}`, D],
        ['admin.add', 'root', null],
        ['admin.passwd', 'root', null],
        ['region.add', 'pisa', null],
      ].sort(),
    );
    for (const r of mine) {
      expect(r.actorFrom).toBe('203.0.113.5');
      expect(r.at).toBe(at.toISOString());
    }
    // The only other row: the appliance creating its region when the directory was first opened.
    expect(rows.filter((r) => r.actor !== 'operator:olga').map((r) => [r.actor, r.action, r.target])).toEqual(
      [['system:appliance', 'region.add', 'local']],
    );
    const dump = JSON.stringify(rows);
    for (const secret of secrets) expect(dump).not.toContain(secret);

    const added = mine.find((r) => r.action === 'mailbox.add');
    expect(JSON.parse(added?.details ?? '{}')).toMatchObject({
      kind: 'personal',
      username: 'rose.pinkcheeks',
      aliases: [`r.pinkcheeks@${D}`, `pinkcheeks@${D}`],
      expiresOn: null,
    });
    const expiry = mine.find((r) => r.action === 'mailbox.expire');
    expect(JSON.parse(expiry?.details ?? '{}')).toEqual({ from: null, to: '2027-01-31' });
  });

  it('filters by domain and limits', async () => {
    const dir = await directory({}, [D, 'other.example']);
    await dir.addMailbox(operator, person('Rose', 'Pinkcheeks'));
    await dir.addMailbox(operator, person('Paul', 'Green', { domain: 'other.example' }));
    const inD = await dir.listAudit(operator, { domain: D });
    expect(inD.map((r) => [r.action, r.target]).sort()).toEqual([
      ['domain.add', D],
      ['mailbox.add', `rose.pinkcheeks@${D}`],
    ]);
    expect(await dir.listAudit(operator, { limit: 2 })).toHaveLength(2);
  });
});

describe('admins', SLOW, () => {
  it('the last operator cannot be removed', async () => {
    const dir = await directory();
    expect(await dir.hasOperator()).toBe(false);
    await dir.addAdmin(operator, { username: 'root', role: 'operator', password: PW });
    expect(await dir.hasOperator()).toBe(true);
    const err = await expectCode(dir.removeAdmin(operator, 'root'), 'conflict');
    expect(err.message).toMatch(/last operator/);

    await dir.addAdmin(operator, { username: 'Root2', role: 'operator', password: PW });
    await dir.addAdmin(operator, { username: 'alice', role: 'domain-admin', domains: [D], password: PW });
    await dir.removeAdmin(operator, 'root');
    await expectCode(dir.removeAdmin(operator, 'root2'), 'conflict');
    await dir.removeAdmin(operator, 'alice');
    await expectCode(dir.removeAdmin(operator, 'alice'), 'not-found');
    expect((await dir.listAdmins(operator)).map((a) => [a.username, a.role, a.domains])).toEqual([
      ['root2', 'operator', []],
    ]);
  });

  it('authenticateAdmin works with the right password only', async () => {
    const dir = await directory({}, [D, 'other.example']);
    await dir.addAdmin(operator, { username: 'root', role: 'operator', password: PW });
    await dir.addAdmin(operator, {
      username: 'alice',
      role: 'domain-admin',
      domains: ['other.example', D],
      password: PW2,
    });
    expect(await dir.authenticateAdmin('root', PW, '127.0.0.1')).toEqual({
      kind: 'operator',
      name: 'root',
      from: '127.0.0.1',
    });
    expect(await dir.authenticateAdmin(' ROOT ', PW, '127.0.0.1')).toMatchObject({ name: 'root' });
    expect(await dir.authenticateAdmin('root', PW2, '127.0.0.1')).toBeNull();
    expect(await dir.authenticateAdmin('nobody', PW, '127.0.0.1')).toBeNull();
    expect(await dir.authenticateAdmin('alice', PW2, '192.0.2.1')).toEqual({
      kind: 'domain-admin',
      name: 'alice',
      domains: [D, 'other.example'],
      from: '192.0.2.1',
    });
    expect(await dir.authenticateAdmin('alice', PW, '192.0.2.1')).toBeNull();
  });

  it('validates new admins', async () => {
    const dir = await directory();
    await dir.addAdmin(operator, { username: 'root', role: 'operator', password: PW });
    await expectCode(
      dir.addAdmin(operator, { username: 'root', role: 'operator', password: PW }),
      'duplicate',
    );
    await expectCode(
      dir.addAdmin(operator, { username: 'ROOT', role: 'operator', password: PW }),
      'duplicate',
    );
    await expectCode(
      dir.addAdmin(operator, { username: 'bad name', role: 'operator', password: PW }),
      'invalid',
    );
    await expectCode(
      dir.addAdmin(operator, { username: 'x', role: 'operator', password: 'short' }),
      'invalid',
    );
    await expectCode(
      dir.addAdmin(operator, { username: 'x', role: 'domain-admin', password: PW }),
      'invalid',
    );
    await expectCode(
      dir.addAdmin(operator, { username: 'x', role: 'operator', domains: [D], password: PW }),
      'invalid',
    );
    await expectCode(
      dir.addAdmin(operator, {
        username: 'x',
        role: 'domain-admin',
        domains: ['nope.example'],
        password: PW,
      }),
      'not-found',
    );
    expect((await dir.listAdmins(operator)).map((a) => a.username)).toEqual(['root']);
  });
});

describe('postmaster@ pointed elsewhere (RFC 5321 §4.5.1)', () => {
  it('an alias on postmaster@ sends its mail to the targets; removing it restores the role mailbox', async () => {
    const { dir, cleanup } = await tempDirectory();
    try {
      await dir.addDomain(operator, 'pm.example');
      await dir.addMailbox(operator, { domain: 'pm.example', kind: 'role', localPart: 'helpdesk' });
      const view = await dir.addAlias(operator, 'postmaster@pm.example', [
        'helpdesk@pm.example',
        'noc@elsewhere.example',
      ]);
      expect(view.targets).toEqual(['helpdesk@pm.example', 'noc@elsewhere.example']);
      const lookup = await dir.lookupRecipient('postmaster@pm.example');
      expect(lookup.kind).toBe('alias');
      expect(
        (await dir.listAliases(operator, 'pm.example')).find((a) => a.address === 'postmaster@pm.example'),
      ).toMatchObject({
        kind: 'manual',
        targets: ['helpdesk@pm.example', 'noc@elsewhere.example'],
      });
      await dir.removeAlias(operator, 'postmaster@pm.example');
      expect((await dir.lookupRecipient('postmaster@pm.example')).kind).toBe('mailbox');
      // Without targets it is the official address again: not removable as an alias.
      await expect(dir.removeAlias(operator, 'postmaster@pm.example')).rejects.toMatchObject({
        code: 'invalid',
      });
      // Other official addresses still cannot take alias targets.
      await expect(
        dir.addAlias(operator, 'helpdesk@pm.example', ['x@elsewhere.example']),
      ).rejects.toMatchObject({
        code: 'duplicate',
      });
    } finally {
      await cleanup();
    }
  });
});
