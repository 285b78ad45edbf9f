/**
 * Issue 19's directory side: quotas and domain limits, editing and restoring mailboxes, the bulk import
 * (all rows or none, per-row errors) and its CSV, each scoped to the actor's domains.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Actor, type Directory, mailboxesCsv, parseCsv, readMailboxCsv } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const alice: Actor = { kind: 'domain-admin', name: 'alice', domains: ['a.example'], from: '127.0.0.1' };
let dir: Directory;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDirectory());
  await dir.addDomain(operator, 'a.example');
  await dir.addDomain(operator, 'b.example');
  await dir.addMailbox(operator, {
    domain: 'a.example',
    kind: 'personal',
    firstName: 'Rose',
    lastName: 'Pinkcheeks',
  });
  await dir.addMailbox(operator, {
    domain: 'b.example',
    kind: 'personal',
    firstName: 'Mario',
    lastName: 'Rossi',
  });
});
afterEach(async () => cleanup());

const mailbox = async (address: string) =>
  (await dir.listMailboxes(operator, address.split('@')[1] ?? '')).mailboxes.find(
    (m) => m.address === address,
  );

describe('quotas', () => {
  it('sets and clears a quota, audited; another domain’s admin is refused', async () => {
    await dir.setQuota(alice, 'rose.pinkcheeks@a.example', 40 * 1024);
    expect((await mailbox('rose.pinkcheeks@a.example'))?.quotaBytes).toBe(40 * 1024);
    await expect(dir.setQuota(alice, 'mario.rossi@b.example', 1)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await dir.setQuota(alice, 'rose.pinkcheeks@a.example', null);
    expect((await mailbox('rose.pinkcheeks@a.example'))?.quotaBytes).toBeNull();
    const audit = await dir.listAudit(operator, { domain: 'a.example' });
    expect(audit.filter((r) => r.action === 'mailbox.quota')).toHaveLength(2);
    await expect(dir.setQuota(alice, 'rose.pinkcheeks@a.example', -1)).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('keeps a domain within the operator’s limits (mailboxes and total quota); only operators set them', async () => {
    await expect(
      dir.setDomainLimits(alice, 'a.example', { maxMailboxes: 5, maxQuotaBytes: null }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await dir.setQuota(operator, 'rose.pinkcheeks@a.example', 600);
    await dir.setDomainLimits(operator, 'a.example', { maxMailboxes: 2, maxQuotaBytes: 1000 });
    expect(await dir.domainLimits(alice, 'a.example')).toEqual({
      domain: 'a.example',
      maxMailboxes: 2,
      maxQuotaBytes: 1000,
      mailboxes: 1,
      quotaBytesAssigned: 600,
      unlimitedMailboxes: 0,
    });
    await expect(dir.domainLimits(alice, 'b.example')).rejects.toMatchObject({ code: 'forbidden' });
    // No quota under a total: refused, saying what is left.
    await expect(
      dir.addMailbox(alice, { domain: 'a.example', kind: 'role', localPart: 'info' }),
    ).rejects.toThrow(/give the mailbox a quota \(400 bytes are left\)/);
    await expect(
      dir.addMailbox(alice, { domain: 'a.example', kind: 'role', localPart: 'info', quotaBytes: 401 }),
    ).rejects.toThrow(/400 bytes are left/);
    await dir.addMailbox(alice, { domain: 'a.example', kind: 'role', localPart: 'info', quotaBytes: 400 });
    await expect(
      dir.addMailbox(alice, { domain: 'a.example', kind: 'role', localPart: 'desk', quotaBytes: 0 }),
    ).rejects.toThrow(/at most 2 mailboxes/);
    await expect(dir.setQuota(alice, 'rose.pinkcheeks@a.example', 601)).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(
      dir.setDomainLimits(operator, 'a.example', { maxMailboxes: 1, maxQuotaBytes: null }),
    ).rejects.toThrow(/already has 2 mailboxes/);
  });
});

describe('editing and restoring a mailbox', () => {
  it('changes group, contact, flag and type; a rename keeps the old address as an alias', async () => {
    const r = await dir.updateMailbox(alice, {
      address: 'rose.pinkcheeks@a.example',
      group: 'IAT',
      contact: 'Laura Abba',
      flag: 'visiting',
    });
    expect(r.changed.sort()).toEqual(['contact', 'flag', 'group']);
    const mb = await mailbox('rose.pinkcheeks@a.example');
    expect(mb).toMatchObject({ group: 'IAT', contact: 'Laura Abba', flag: 'visiting' });
    await dir.updateMailbox(alice, { address: 'rose.pinkcheeks@a.example', kind: 'role' });
    expect((await mailbox('rose.pinkcheeks@a.example'))?.kind).toBe('role');
    await dir.updateMailbox(alice, { address: 'rose.pinkcheeks@a.example', kind: 'personal' });
    await dir.renameMailbox(alice, 'rose.pinkcheeks@a.example', { lastName: 'Bianchi' });
    const aliases = await dir.listAliases(alice, 'a.example');
    expect(aliases.find((a) => a.address === 'rose.pinkcheeks@a.example')).toMatchObject({
      kind: 'legacy',
      targets: ['rose.bianchi@a.example'],
    });
    await expect(
      dir.updateMailbox(alice, { address: 'mario.rossi@b.example', flag: 'x' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('restores a removed mailbox with its generated aliases; not twice, not another domain’s', async () => {
    await dir.removeMailbox(alice, 'rose.pinkcheeks@a.example');
    expect((await mailbox('rose.pinkcheeks@a.example'))?.state).toBe('removed');
    expect(await dir.lookupRecipient('r.pinkcheeks@a.example')).toMatchObject({ kind: 'unknown' });
    const r = await dir.restoreMailbox(alice, 'rose.pinkcheeks@a.example');
    expect(r.aliases.map((a) => a.address)).toContain('r.pinkcheeks@a.example');
    expect(await mailbox('rose.pinkcheeks@a.example')).toMatchObject({ state: 'active', purgeAfter: null });
    expect(await dir.lookupRecipient('r.pinkcheeks@a.example')).toMatchObject({ kind: 'mailbox' });
    await expect(dir.restoreMailbox(alice, 'rose.pinkcheeks@a.example')).rejects.toMatchObject({
      code: 'conflict',
    });
    await dir.removeMailbox(operator, 'mario.rossi@b.example');
    await expect(dir.restoreMailbox(alice, 'mario.rossi@b.example')).rejects.toMatchObject({
      code: 'forbidden',
    });
    const actions = (await dir.listAudit(operator, { domain: 'a.example' })).map((a) => a.action);
    expect(actions).toContain('mailbox.restore');
  });
});

describe('bulk import', () => {
  const csv = [
    'last,first,group,quota,expires',
    'Abba,Laura,IAT,10M,2027-06-30',
    'Pinkcheeks,Rose,IAT,,',
    'Verdi,"Giuseppe, jr",IAT,1G,',
    ',Nolast,,,',
    'Neri,Anna,,lots,',
    'Neri,Anna,,,',
    '',
  ].join('\r\n');

  it('reads the header by name, any order, and refuses unknown columns', () => {
    const rows = readMailboxCsv(csv);
    expect(rows[0]).toEqual({
      line: 2,
      values: { last: 'Abba', first: 'Laura', group: 'IAT', quota: '10M', expires: '2027-06-30' },
    });
    expect(rows[2]?.values.first).toBe('Giuseppe, jr');
    expect(() => readMailboxCsv('first,surname\r\nA,B\r\n')).toThrow(/unknown column "surname"/);
    expect(parseCsv('a,"b ""q""\nc",d\n')).toEqual([{ line: 1, cells: ['a', 'b "q"\nc', 'd'] }]);
  });

  it('previews per-row errors and imports nothing while any row is wrong', async () => {
    const rows = readMailboxCsv(csv);
    const plan = await dir.planImport(alice, 'a.example', rows);
    expect(plan.errorLines).toEqual([3, 5, 6]);
    expect(plan.rows.find((r) => r.line === 3)?.error).toMatch(/rose\.pinkcheeks@a\.example already exists/);
    expect(plan.rows.find((r) => r.line === 5)?.error).toMatch(/first and last/);
    expect(plan.rows.find((r) => r.line === 6)?.error).toMatch(/invalid size "lots"/);
    expect(plan.rows.find((r) => r.line === 2)).toMatchObject({
      address: 'laura.abba@a.example',
      quotaBytes: 10 * 1024 ** 2,
    });
    const before = (await dir.listMailboxes(operator, 'a.example')).total;
    await expect(dir.importMailboxes(alice, 'a.example', rows)).rejects.toThrow(
      /nothing imported: 3 rows with errors \(lines 3, 5, 6\)/,
    );
    expect((await dir.listMailboxes(operator, 'a.example')).total).toBe(before);
    const good = rows.filter((r) => ![3, 5, 6].includes(r.line));
    const done = await dir.importMailboxes(alice, 'a.example', good);
    expect(done.imported.map((m) => m.address)).toEqual([
      'laura.abba@a.example',
      'giuseppejr.verdi@a.example',
      'anna.neri@a.example',
    ]);
    expect((await dir.listMailboxes(operator, 'a.example')).total).toBe(before + 3);
    const audit = await dir.listAudit(operator, { domain: 'a.example' });
    expect(audit.filter((a) => a.action === 'mailbox.import')).toHaveLength(1);
    await expect(dir.importMailboxes(alice, 'b.example', good)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('finds the same address twice in one file, and exports what imports again', async () => {
    const plan = await dir.planImport(
      alice,
      'a.example',
      readMailboxCsv('first,last\nAnna,Neri\nanna,neri\n'),
    );
    expect(plan.rows[1]?.error).toMatch(/also on line 2/);
    await dir.importMailboxes(alice, 'a.example', readMailboxCsv('role,quota,group\ninfo,1M,Desk\n'));
    const out = mailboxesCsv((await dir.listMailboxes(alice, 'a.example')).mailboxes);
    expect(out.split('\r\n')[0]).toBe('first,last,address,username,group,contact,quota,expires,role');
    expect(out).toContain(',info,Desk,,1048576,,info\r\n');
    expect(out).toContain('Rose,Pinkcheeks,rose.pinkcheeks,rose.pinkcheeks,,,,,\r\n');
  });
});

describe("an admin's domains", () => {
  it('are changed by operators only; a domain with its sub-domains brings them, present and future', async () => {
    await dir.addAdmin(operator, {
      username: 'iat-admin',
      role: 'domain-admin',
      domains: ['a.example'],
      password: 'Blue-Desk-Lamp-9',
    });
    await dir.addDomain(operator, 'dept.b.example');
    const actorOf = async () => (await dir.actorForAdmin('iat-admin', '127.0.0.1')) as Actor;
    await expect(dir.setAdminDomains(await actorOf(), 'iat-admin', ['b.example'])).rejects.toMatchObject({
      code: 'forbidden',
    });
    await dir.setAdminDomains(operator, 'iat-admin', ['a.example', 'b.example'], ['b.example']);
    let actor = await actorOf();
    expect(actor).toMatchObject({
      kind: 'domain-admin',
      domains: ['a.example', 'b.example', 'dept.b.example'],
    });
    expect(await dir.adminSubdomainRoots('iat-admin')).toEqual(['b.example']);
    // The admin adds a sub-domain of their own; not one elsewhere.
    await dir.addDomain(actor, 'lab.b.example');
    await expect(dir.addDomain(actor, 'lab.c.example')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(dir.addDomain(actor, 'notb.example')).rejects.toMatchObject({ code: 'forbidden' });
    actor = await actorOf();
    expect(actor.kind === 'domain-admin' && actor.domains).toContain('lab.b.example');
    await dir.addMailbox(actor, { domain: 'lab.b.example', kind: 'role', localPart: 'desk' });
    // Without the sub-domains, they are out of reach again.
    await dir.setAdminDomains(operator, 'iat-admin', ['b.example']);
    actor = await actorOf();
    expect(actor).toMatchObject({ domains: ['b.example'] });
    await expect(dir.listMailboxes(actor, 'lab.b.example')).rejects.toMatchObject({ code: 'forbidden' });
    const audit = await dir.listAudit(operator, { action: 'admin.domains' });
    expect(audit).toHaveLength(2);
  });
});
