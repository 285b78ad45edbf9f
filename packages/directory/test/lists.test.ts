/** Built-in mailing lists in the directory (service/lists.ts): create, members, scope, lookups, remove. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Actor, type Directory, DirectoryError } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const A = 'iat.example';
const B = 'other.example';
const alice: Actor = { kind: 'domain-admin', name: 'alice', domains: [A], from: '127.0.0.1' };

let dir: Directory;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDirectory());
  await dir.addDomain(operator, A);
  await dir.addDomain(operator, B);
  await dir.addMailbox(operator, { domain: A, kind: 'personal', firstName: 'Rose', lastName: 'Pinkcheeks' });
  await dir.addMailbox(operator, { domain: B, kind: 'personal', firstName: 'Bob', lastName: 'Other' });
});
afterEach(() => cleanup());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DirectoryError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('built-in lists', () => {
  it('creates a list with an owner, members and a sender rule; the MTA and the owner find it', async () => {
    const list = await dir.createList(alice, {
      address: `staff@${A}`,
      owner: `pinkcheeks@${A}`,
      senders: 'members',
      moderated: true,
      members: [`rose.pinkcheeks@${A}`, 'Ext@Remote.example'],
    });
    expect(list).toMatchObject({
      address: `staff@${A}`,
      owner: `rose.pinkcheeks@${A}`,
      senders: 'members',
      moderated: true,
      members: ['ext@remote.example', `rose.pinkcheeks@${A}`],
    });
    expect(await dir.lookupRecipient(`staff@${A}`)).toMatchObject({ kind: 'mailing-list', region: 'local' });
    expect((await dir.lookupList(`STAFF@${A}`))?.members).toHaveLength(2);
    expect((await dir.listsOwnedBy(`rose.pinkcheeks@${A}`)).map((l) => l.address)).toEqual([`staff@${A}`]);
    expect((await dir.listLists(alice, A)).map((l) => l.address)).toEqual([`staff@${A}`]);
    // Renamed, the owner still finds the list (it names their former address, now a legacy alias).
    await dir.renameMailbox(operator, `rose.pinkcheeks@${A}`, { lastName: 'Redcheeks' });
    expect((await dir.listsOwnedBy(`rose.redcheeks@${A}`)).map((l) => l.address)).toEqual([`staff@${A}`]);
    expect(await dir.lookupList(`nobody@${A}`)).toBeNull();

    const set = await dir.setListSettings(alice, `staff@${A}`, {
      senders: 'listed',
      allowedSenders: ['Boss@Remote.example'],
      moderated: false,
    });
    expect(set).toMatchObject({
      senders: 'listed',
      allowedSenders: ['boss@remote.example'],
      moderated: false,
    });
    expect((await dir.setListSettings(alice, `staff@${A}`, { senders: 'domain' })).allowedSenders).toEqual(
      [],
    );
    expect(await code(dir.setListSettings(alice, `staff@${A}`, { owner: `nobody@${A}` }))).toBe('invalid');
    const changed = await dir.changeListMembers(alice, `staff@${A}`, {
      add: ['new@remote.example', 'ext@remote.example'],
      remove: [`rose.pinkcheeks@${A}`],
    });
    expect(changed.added).toEqual(['new@remote.example']);
    expect(changed.members).toEqual(['ext@remote.example', 'new@remote.example']);
    const audit = await dir.listAudit(operator, { domain: A });
    expect(audit.map((r) => r.action)).toEqual(
      expect.arrayContaining(['mailing-list.create', 'mailing-list.members']),
    );

    await dir.removeList(alice, `staff@${A}`);
    expect(await dir.lookupList(`staff@${A}`)).toBeNull();
    expect((await dir.lookupRecipient(`staff@${A}`)).kind).toBe('unknown');
  });

  it('a list of a removed domain is gone, and its address can be a list again when the domain comes back', async () => {
    await dir.createList(operator, {
      address: `team@${B}`,
      owner: `bob.other@${B}`,
      members: ['x@remote.example'],
    });
    await dir.removeDomain(operator, B, { force: true });
    expect(await dir.lookupList(`team@${B}`)).toBeNull();
    await dir.addDomain(operator, B);
    await dir.addMailbox(operator, { domain: B, kind: 'personal', firstName: 'Bob', lastName: 'Other' });
    const again = await dir.createList(operator, { address: `team@${B}`, owner: `bob.other@${B}` });
    expect(again.members).toEqual([]);
    expect((await dir.getList(operator, `team@${B}`)).members).toEqual([]);
  });

  it('refuses bad input with a clear error', async () => {
    expect(await code(dir.createList(alice, { address: `l@${A}`, owner: `nobody@${A}` }))).toBe('invalid');
    expect(
      await code(dir.createList(alice, { address: `l@${A}`, owner: `pinkcheeks@${A}`, senders: 'listed' })),
    ).toBe('invalid');
    expect(
      await code(dir.createList(alice, { address: `rose.pinkcheeks@${A}`, owner: `pinkcheeks@${A}` })),
    ).toBe('duplicate');
    await dir.addAlias(operator, `l-request@${A}`, [`pinkcheeks@${A}`]);
    expect(await code(dir.createList(alice, { address: `l@${A}`, owner: `pinkcheeks@${A}` }))).toBe(
      'duplicate',
    );
    await dir.createList(alice, { address: `m@${A}`, owner: `pinkcheeks@${A}` });
    expect(await code(dir.removeAlias(alice, `m@${A}`))).toBe('invalid');
    expect(await code(dir.addAlias(alice, `x@${A}`, [`m@${A}`]))).toBe('invalid');
    expect(await code(dir.changeListMembers(alice, `m@${A}`, { remove: ['no@remote.example'] }))).toBe(
      'not-found',
    );
  });

  it('a domain admin reaches no list of another domain, nor an owner there', async () => {
    await dir.createList(operator, { address: `team@${B}`, owner: `bob.other@${B}` });
    expect(await code(dir.getList(alice, `team@${B}`))).toBe('forbidden');
    expect(await code(dir.listLists(alice, B))).toBe('forbidden');
    expect(await code(dir.changeListMembers(alice, `team@${B}`, { add: ['x@remote.example'] }))).toBe(
      'forbidden',
    );
    expect(await code(dir.removeList(alice, `team@${B}`))).toBe('forbidden');
    expect(await code(dir.setListSettings(alice, `team@${B}`, { moderated: true }))).toBe('forbidden');
    expect(await code(dir.createList(alice, { address: `l@${B}`, owner: `pinkcheeks@${A}` }))).toBe(
      'forbidden',
    );
    expect(await code(dir.createList(alice, { address: `l@${A}`, owner: `bob.other@${B}` }))).toBe('invalid');
    expect((await dir.getList(operator, `team@${B}`)).owner).toBe(`bob.other@${B}`);
  });
});
