/**
 * Quota at delivery (issue 19): a message never takes a mailbox past its quota, whatever SIZE= the client
 * declared (the reported case: a 41 KB message accepted into a 40 KB quota), and the delivery that brings
 * usage to 90 % names the user for the warning mail.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MailStore } from '../src/store.js';
import { rejectsWith, source } from './contract.js';

const KB = 1024;
let store: MailStore | undefined;
let dir: string | undefined;

afterEach(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

async function open(limits: Map<string, number | null>): Promise<MailStore> {
  dir = await mkdtemp(join(tmpdir(), 'delegato-quota-'));
  store = await MailStore.open({ dir, quotaLimit: async (u) => limits.get(u) ?? null });
  return store;
}

const sized = (bytes: number) => `Subject: x\r\n\r\n${'y'.repeat(bytes - 16)}\r\n`;

describe('quota at delivery', () => {
  it('refuses a 41 KB message for an empty 40 KB mailbox and stores nothing', async () => {
    const s = await open(new Map([['rose', 40 * KB]]));
    await s.ensureUser('rose');
    const msg = sized(41 * KB);
    expect(Buffer.byteLength(msg)).toBe(41 * KB);
    await rejectsWith(s.deliver({ users: ['rose'], source: source(msg) }), 'over-quota');
    expect(await s.quota('rose')).toEqual({ usedBytes: 0, messages: 0, limitBytes: 40 * KB });
  });

  it('accepts up to the limit exactly, then refuses one byte more', async () => {
    const s = await open(new Map([['rose', 40 * KB]]));
    await s.ensureUser('rose');
    await s.deliver({ users: ['rose'], source: source(sized(30 * KB)) });
    await s.deliver({ users: ['rose'], source: source(sized(10 * KB)) });
    expect((await s.quota('rose')).usedBytes).toBe(40 * KB);
    await rejectsWith(s.deliver({ users: ['rose'], source: source(sized(16)) }), 'over-quota');
    expect((await s.quota('rose')).messages).toBe(2);
  });

  it('refuses a delivery to several users as a whole when one of them is full; unlimited users never are', async () => {
    const s = await open(new Map<string, number | null>([['full', 10 * KB]]));
    await s.ensureUser('full');
    await s.ensureUser('free');
    await rejectsWith(s.deliver({ users: ['free', 'full'], source: source(sized(11 * KB)) }), 'over-quota');
    expect((await s.quota('free')).messages).toBe(0);
    const ok = await s.deliver({ users: ['free'], source: source(sized(500 * KB)) });
    expect(ok.uids.get('free')).toBe(1);
    expect(ok.nearQuota).toEqual([]);
  });

  it('checks concurrent deliveries committed in one group against each other', async () => {
    const s = await open(new Map([['rose', 40 * KB]]));
    await s.ensureUser('rose');
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => s.deliver({ users: ['rose'], source: source(sized(15 * KB)) })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((await s.quota('rose')).usedBytes).toBe(30 * KB);
  });

  it('names the user once, on the delivery that brings usage to 90 %', async () => {
    const warned: string[][] = [];
    dir = await mkdtemp(join(tmpdir(), 'delegato-quota-'));
    const s = await MailStore.open({
      dir,
      quotaLimit: async () => 100 * KB,
      onNearQuota: (ids) => warned.push(ids),
    });
    store = s;
    await s.ensureUser('rose');
    expect((await s.deliver({ users: ['rose'], source: source(sized(80 * KB)) })).nearQuota).toEqual([]);
    expect((await s.deliver({ users: ['rose'], source: source(sized(11 * KB)) })).nearQuota).toEqual([
      'rose',
    ]);
    expect((await s.deliver({ users: ['rose'], source: source(sized(1 * KB)) })).nearQuota).toEqual([]);
    expect(warned).toEqual([['rose']]);
  });
});

describe('usage of many users', () => {
  it('sums every folder of each user in one call; unknown users count 0', async () => {
    const s = await open(new Map());
    await s.ensureUser('a');
    await s.ensureUser('b');
    await s.deliver({ users: ['a', 'b'], source: source(sized(2 * KB)) });
    await s.append('a', 'Drafts', source(sized(KB)));
    expect(await s.usage(['a', 'b', 'nobody'])).toEqual(
      new Map([
        ['a', 3 * KB],
        ['b', 2 * KB],
        ['nobody', 0],
      ]),
    );
  });
});
