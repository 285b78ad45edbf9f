import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor, Directory } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const PW = 'correct horse battery staple';
const adminOfUniv: Actor = {
  kind: 'domain-admin',
  name: 'univ-admin',
  domains: ['univ.example'],
  from: '127.0.0.1',
};

let dir: Directory;
let cleanup: () => Promise<void>;
let reader: string;
let other: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDirectory());
  await dir.addDomain(operator, 'univ.example');
  await dir.addDomain(operator, 'lib.example');
  reader = (
    await dir.addMailbox(operator, {
      domain: 'univ.example',
      kind: 'role',
      localPart: 'reader',
      password: PW,
    })
  ).address;
  other = (
    await dir.addMailbox(operator, { domain: 'lib.example', kind: 'role', localPart: 'staff', password: PW })
  ).address;
});
afterEach(() => cleanup());

const idOf = async (address: string) => {
  const found = await dir.lookupRecipient(address);
  if (found.kind !== 'mailbox') throw new Error(`${address} is not a mailbox`);
  return found.mailboxId;
};

describe('attachment gateway data', () => {
  it('registers mailboxes, domains and senders, and gives each mailbox its policy', async () => {
    const readerId = await idOf(reader);
    const otherId = await idOf(other);
    expect((await dir.gatewayPolicies([readerId, otherId])).get(readerId)).toBeNull();
    await dir.registerGateway(adminOfUniv, { target: reader });
    await dir.setGatewaySettings(adminOfUniv, 'univ.example', {
      thresholdBytes: 5 * 1024 * 1024,
      mediaTypes: ['application/pdf', 'IMAGE/*'],
      expiryDays: 7,
      loginRequired: true,
    });
    await dir.registerGateway(operator, {
      target: 'librarian@lib.example',
      sender: true,
      domain: 'lib.example',
    });
    const policies = await dir.gatewayPolicies([readerId, otherId]);
    expect(policies.get(readerId)).toEqual({
      domain: 'univ.example',
      always: true,
      senders: [],
      rules: {
        thresholdBytes: 5 * 1024 * 1024,
        mediaTypes: ['application/pdf', 'image/*'],
        expiryDays: 7,
        loginRequired: true,
      },
    });
    expect(policies.get(otherId)).toEqual({
      domain: 'lib.example',
      always: false,
      senders: ['librarian@lib.example'],
      rules: { thresholdBytes: 2 * 1024 * 1024, mediaTypes: [], expiryDays: 30, loginRequired: false },
    });
    await dir.registerGateway(operator, { target: 'lib.example' });
    expect((await dir.gatewayPolicies([otherId])).get(otherId)?.always).toBe(true);
    const list = await dir.listGateway(operator);
    expect(list.map((d) => [d.domain, d.registrations.map((r) => `${r.kind}:${r.target}`)])).toEqual([
      ['lib.example', ['domain:lib.example', 'sender:librarian@lib.example']],
      ['univ.example', ['mailbox:reader@univ.example']],
    ]);
    await expect(dir.registerGateway(adminOfUniv, { target: reader })).rejects.toMatchObject({
      code: 'duplicate',
    });
    await dir.unregisterGateway(adminOfUniv, { target: reader });
    expect((await dir.gatewayPolicies([readerId])).get(readerId)).toBeNull();
    await expect(dir.unregisterGateway(adminOfUniv, { target: reader })).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('keeps a domain admin to their own domains', async () => {
    for (const input of [
      { target: other },
      { target: 'lib.example' },
      { target: 'anyone@else.example', sender: true, domain: 'lib.example' },
    ]) {
      await expect(dir.registerGateway(adminOfUniv, input)).rejects.toMatchObject({ code: 'forbidden' });
    }
    await expect(dir.setGatewaySettings(adminOfUniv, 'lib.example', { expiryDays: 1 })).rejects.toMatchObject(
      {
        code: 'forbidden',
      },
    );
    await expect(dir.listGateway(adminOfUniv, 'lib.example')).rejects.toMatchObject({ code: 'forbidden' });
    expect((await dir.listGateway(adminOfUniv)).map((d) => d.domain)).toEqual(['univ.example']);
    // An alias of univ.example pointing at lib.example's mailbox does not open lib.example's mailbox.
    await dir.addAlias(operator, 'staff-alias@univ.example', [other]);
    await expect(
      dir.registerGateway(adminOfUniv, { target: 'staff-alias@univ.example' }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/forbidden|not-found/),
    });
    expect((await dir.listGateway(operator, 'lib.example'))[0]?.registrations).toEqual([]);
  });

  it('refuses bad settings with a clear error', async () => {
    for (const rules of [
      { thresholdBytes: 10 },
      { expiryDays: 0 },
      { mediaTypes: ['pdf'] },
      { mediaTypes: ['text/html; charset=x'] },
    ]) {
      await expect(dir.setGatewaySettings(operator, 'univ.example', rules)).rejects.toMatchObject({
        code: 'invalid',
      });
    }
    await expect(dir.registerGateway(operator, { target: 'nobody@univ.example' })).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(
      dir.registerGateway(operator, { target: 'x y', sender: true, domain: 'univ.example' }),
    ).rejects.toMatchObject({ code: 'invalid' });
  });
});
