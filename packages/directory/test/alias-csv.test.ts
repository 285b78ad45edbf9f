/**
 * The alias export imports again as is (csv.ts `aliasesCsv` and `readAliasCsv`): hand-made aliases with
 * one or several targets go out as `address,target` rows and come back the same through `alias.import`;
 * generated aliases stay with their mailboxes and are not exported.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { aliasesCsv, readAliasCsv } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('alias export and import', () => {
  it('round trip: export, remove, import gives the same aliases', async () => {
    const t = await tempDirectory();
    cleanups.push(t.cleanup);
    const dir = t.dir;
    await dir.addDomain(operator, 'iat.example');
    for (const [first, last] of [
      ['Rose', 'Pinkcheeks'],
      ['Bob', 'Bluenose'],
    ] as const)
      await dir.addMailbox(operator, {
        domain: 'iat.example',
        kind: 'personal',
        firstName: first,
        lastName: last,
        password: 'a long enough pass phrase 42',
      });
    await dir.addAlias(operator, 'office@iat.example', ['rose.pinkcheeks@iat.example']);
    await dir.addAlias(operator, 'team@iat.example', [
      'rose.pinkcheeks@iat.example',
      'bob.bluenose@iat.example',
    ]);
    const manual = async () =>
      (await dir.listAliases(operator, 'iat.example'))
        .filter((a) => a.kind === 'manual')
        .map((a) => ({ address: a.address, targets: [...a.targets].sort() }));
    const before = await manual();
    expect(before).toHaveLength(2);

    const csv = aliasesCsv(await dir.listAliases(operator, 'iat.example'));
    expect(csv.split('\r\n')[0]).toBe('address,target');
    // Only the hand-made aliases: the generated ones (rose@, pinkcheeks@, ...) come with their mailboxes.
    expect(csv.trimEnd().split('\r\n')).toHaveLength(3);

    for (const a of before) await dir.removeAlias(operator, a.address);
    expect(await manual()).toEqual([]);
    await dir.importAliases(operator, 'iat.example', readAliasCsv(csv));
    expect(await manual()).toEqual(before);
  });
});
