/**
 * Directory replication with one writer (issue 14 item 1; decision 0009).
 *
 * In-process (a real tursodb hub under HubSupervisor, real replicas, the writer's ReplicatedWriter and the
 * forwarding regions' ForwardingWriter over an in-process transport): the compensating write (the hub
 * stopped between the commit and the push: the refused change never appears anywhere, also after the hub
 * is back and pushes happened), the writer's fail-fast refusal, forwarded changes and their typed errors,
 * the same address from two regions at once.
 *
 * With the lab (one `lab up` … `lab down` cycle: real appliances for north (hub, writer), central and
 * south): a mailbox created in north is known in central and south within seconds (with the change →
 * visibility time over 50 changes printed), one created in central (forwarded) everywhere; hub stopped:
 * mail flows within a region, IMAP login works, changes are refused naming the hub, /healthz stays 200;
 * hub back: changes work and converge; a password changed at the writer ends an IMAP session in central;
 * the same address from central and south at once: one wins, the other is told "already exists".
 */
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  type Actor,
  applyForwarded,
  Directory,
  DirectoryError,
  FederationKey,
  ForwardingWriter,
  ReplicatedWriter,
  Replication,
} from '@delegato/directory';
import { HubSupervisor } from '@delegato/federation';
import { createLogger } from '@delegato/observability';
import { LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendControlRequest } from '../src/control/client.js';
import { controlSocketPath } from '../src/control/paths.js';
import { dataPaths } from '../src/data-dir.js';
import type { LabFile } from '../src/lab/layout.js';
import { alive, runCli } from './federation-support.js';

const work = tempDir('delegato-fed-dir-');
const OPERATOR: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };
const logger = createLogger({ destination: new PassThrough(), level: 'warn' });
const hub = new HubSupervisor({ dir: join(work.path, 'hub'), logger });
const key = FederationKey.loadOrCreate(join(work.path, 'federation.key'));
const closers: Array<() => Promise<unknown>> = [];

interface Region {
  directory: Directory;
  replication: Replication;
}

let north: Region & { writer: ReplicatedWriter };
let south: Region;
let central: Region;
/** Set by a test: runs at the writer between commit and push. */
let beforePush: (() => Promise<void>) | undefined;

const base = (region: string) => ({
  path: join(work.path, `${region}.db`),
  regionId: region,
  timezone: 'UTC',
  retentionDays: 30,
  cramMd5: false,
  key,
});

async function openWriter(): Promise<typeof north> {
  let replication: Replication | undefined;
  let writer: ReplicatedWriter | undefined;
  const directory = await Directory.open({
    ...base('north'),
    sync: { url: hub.url },
    role: 'writer',
    writer: (local) => {
      replication = new Replication(local.engine, { role: 'writer', writer: 'north', intervalMs: 200 });
      writer = new ReplicatedWriter(local, replication, { beforePush: async () => beforePush?.() });
      return writer;
    },
  });
  const r = { directory, replication: replication as Replication, writer: writer as ReplicatedWriter };
  r.replication.start();
  closers.push(async () => {
    await r.replication.stop();
    await directory.close();
  });
  return r;
}

/** A forwarding region; its transport calls the writer's handler in-process, through JSON both ways. */
async function openReplica(region: string): Promise<Region> {
  let replication: Replication | undefined;
  const transport = (async (_url: string, init: RequestInit) => {
    const body = JSON.parse(new TextDecoder().decode(init.body as Uint8Array));
    if (hub.state !== 'running')
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    const answer = await applyForwarded({ db: north.directory.db, writer: north.writer }, region, body);
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as typeof fetch;
  const directory = await Directory.open({
    ...base(region),
    sync: { url: hub.url },
    role: 'replica',
    writer: (local) => {
      replication = new Replication(local.engine, { role: 'replica', writer: 'north', intervalMs: 200 });
      return new ForwardingWriter({
        writer: 'north',
        regionId: region,
        url: 'https://writer.invalid',
        fetch: transport,
        replication,
      });
    },
  });
  const r = { directory, replication: replication as Replication };
  r.replication.start();
  closers.push(async () => {
    await r.replication.stop();
    await directory.close();
  });
  return r;
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const began = Date.now();
  while (!(await check())) {
    if (Date.now() - began > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - began;
}

const kindOf = async (d: Directory, address: string) => (await d.lookupRecipient(address)).kind;

beforeAll(async () => {
  await hub.start();
  north = await openWriter();
  south = await openReplica('south');
  central = await openReplica('central');
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await hub.stop();
  work.remove();
}, 60_000);

describe('directory replication with one writer', () => {
  it('a change made at the writer or forwarded from a region is visible everywhere', async () => {
    await north.directory.addDomain(OPERATOR, 'alpha.example');
    const created = await south.directory.addMailbox(OPERATOR, {
      domain: 'alpha.example',
      kind: 'personal',
      firstName: 'Rose',
      lastName: 'Pinkcheeks',
      password: 'correct horse battery',
    });
    expect(created.address).toBe('rose.pinkcheeks@alpha.example');
    // Read-your-writes in the forwarding region: confirmed means visible there.
    expect(await kindOf(south.directory, created.address)).toBe('mailbox');
    await until(
      'north and central',
      async () =>
        (await kindOf(north.directory, created.address)) === 'mailbox' &&
        (await kindOf(central.directory, 'pinkcheeks@alpha.example')) !== 'unknown',
    );
    // The typed error of the writer, unchanged: a duplicate stays a duplicate.
    const again = await central.directory
      .addMailbox(OPERATOR, { domain: 'alpha.example', kind: 'role', localPart: 'rose.pinkcheeks' })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DirectoryError);
    expect((again as DirectoryError).code).toBe('duplicate');
    expect((again as DirectoryError).message).toMatch(/already exists/);
    // The actor is rebuilt at the writer: an administrator it does not know may change nothing.
    const ghost = await south.directory
      .addDomain({ kind: 'operator', name: 'ghost', from: '192.0.2.1' }, 'ghost.example')
      .catch((e: unknown) => e);
    expect((ghost as DirectoryError).code).toBe('forbidden');
  }, 30_000);

  it('the same address from two regions at once: exactly one succeeds, the other is told', async () => {
    const add = (r: Region) =>
      r.directory
        .addMailbox(OPERATOR, {
          domain: 'alpha.example',
          kind: 'role',
          localPart: 'helpdesk',
          password: 'x'.repeat(12),
        })
        .then(() => 'ok' as const)
        .catch((e: unknown) => e);
    const results = await Promise.all([add(south), add(central)]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    const loser = results.find((r) => r !== 'ok') as DirectoryError;
    expect(loser.code).toBe('duplicate');
    await until('everywhere', async () =>
      (
        await Promise.all([north, south, central].map((r) => kindOf(r.directory, 'helpdesk@alpha.example')))
      ).every((k) => k === 'mailbox'),
    );
  }, 30_000);

  it('compensating write: the hub gone between commit and push, the change is undone and never appears', async () => {
    await north.directory.addDomain(OPERATOR, 'gamma.example');
    await until(
      'gamma in south',
      async () => (await kindOf(south.directory, 'x@gamma.example')) === 'unknown',
    );
    // An insert of many rows (mailbox, addresses, generated aliases, audit) and an update (a password).
    beforePush = async () => {
      beforePush = undefined;
      await hub.stop();
    };
    const refused = await south.directory
      .addMailbox(OPERATOR, {
        domain: 'gamma.example',
        kind: 'personal',
        firstName: 'Nicolò',
        lastName: 'Verdi',
        password: 'correct horse battery',
      })
      .catch((e: unknown) => e);
    expect((refused as DirectoryError).code).toBe('unavailable');
    expect((refused as DirectoryError).message).toMatch(/refused and undone.*writer region north/);
    expect(await kindOf(north.directory, 'nicolo.verdi@gamma.example')).toBe('unknown');
    expect(await kindOf(north.directory, 'verdi@gamma.example')).toBe('unknown');

    // With the hub down: refused before anything is written (writer and forwarding regions), reads work.
    const down = await north.directory.addDomain(OPERATOR, 'delta.example').catch((e: unknown) => e);
    expect((down as DirectoryError).message).toMatch(/hub is unreachable from the writer region north/);
    const fwd = await central.directory.addDomain(OPERATOR, 'delta.example').catch((e: unknown) => e);
    expect((fwd as DirectoryError).code).toBe('unavailable');
    expect((fwd as DirectoryError).message).toMatch(/writer region north is unreachable/);
    expect(await kindOf(central.directory, 'rose.pinkcheeks@alpha.example')).toBe('mailbox');
    // A sign-in's audit record is not a change: dropped, the sign-in goes on.
    await expect(
      central.directory.recordAuthEvent({
        action: 'auth.signin',
        actor: 'op',
        from: '192.0.2.9',
        target: 'op',
      }),
    ).resolves.toBeUndefined();
    expect(
      await central.directory.authenticateMailbox('rose.pinkcheeks@alpha.example', 'correct horse battery'),
    ).toBeTruthy();

    // An update refused the same way: the old password stays.
    await hub.start();
    await until(
      'north pushes again',
      async () => (await north.replication.state()).pendingLocalChanges === 0,
    );
    beforePush = async () => {
      beforePush = undefined;
      await hub.stop();
    };
    const passwd = await north.directory
      .setPassword(OPERATOR, 'rose.pinkcheeks@alpha.example', 'a new long password')
      .catch((e: unknown) => e);
    expect((passwd as DirectoryError).code).toBe('unavailable');
    await hub.start();

    // Hub back: the writer pushes the change and its inverse; a pull elsewhere brings nothing of it.
    await until(
      'north pushes its leftovers',
      async () => (await north.replication.state()).pendingLocalChanges === 0,
    );
    const late = await openReplica('east');
    for (const r of [north, south, central, late]) {
      await r.replication.exclusive(() => r.replication.pullNow());
      expect(await kindOf(r.directory, 'nicolo.verdi@gamma.example')).toBe('unknown');
      expect(await kindOf(r.directory, 'verdi@gamma.example')).toBe('unknown');
      expect(
        await r.directory.authenticateMailbox('rose.pinkcheeks@alpha.example', 'correct horse battery'),
      ).toBeTruthy();
      expect(
        await r.directory.authenticateMailbox('rose.pinkcheeks@alpha.example', 'a new long password'),
      ).toBeFalsy();
    }
    // Nothing left over: the same mailbox can now be created, and it replicates.
    const made = await central.directory.addMailbox(OPERATOR, {
      domain: 'gamma.example',
      kind: 'personal',
      firstName: 'Nicolò',
      lastName: 'Verdi',
    });
    expect(made.address).toBe('nicolo.verdi@gamma.example');
    await until(
      'late replica',
      async () => (await kindOf(late.directory, 'verdi@gamma.example')) !== 'unknown',
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------- the lab

const labDir = join(work.path, 'lab');
const labPids: number[] = [];

afterAll(async () => {
  await runCli(['lab', 'down', '--dir', labDir], { cwd: work.path, timeoutMs: 120_000 }).catch(
    () => undefined,
  );
  for (const pid of labPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}, 180_000);

type LabRegionName = 'north' | 'central' | 'south';

describe('directory replication in the lab', () => {
  it('replicates, forwards, survives the hub, converges, one winner', { timeout: 600_000 }, async () => {
    const up = await runCli(['lab', 'up', '--dir', labDir, '--json'], { cwd: work.path, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    const lab = JSON.parse(readFileSync(join(labDir, 'lab.json'), 'utf8')) as LabFile;
    for (const pid of [lab.hub.pid, ...Object.values(lab.regions).map((r) => r.pid)])
      labPids.push(pid as number);

    const ctl = (region: LabRegionName, argv: string[], stdin?: string) => {
      const dataDir = lab.regions[region].dataDir;
      return sendControlRequest(controlSocketPath(dataDir), dataPaths(dataDir).controlToken, {
        user: userInfo().username,
        argv,
        ...(stdin !== undefined ? { stdin } : {}),
      });
    };
    const ok = async (region: LabRegionName, argv: string[], stdin?: string) => {
      const res = await ctl(region, argv, stdin);
      expect(res.code, `${region}: ${argv.join(' ')}: ${res.stderr}`).toBe(0);
      return res.stdout;
    };
    const lists = async (region: LabRegionName, domain: string) =>
      (await ctl(region, ['mailbox', 'list', domain, '--json'])).stdout;
    const others: LabRegionName[] = ['central', 'south'];

    // The regions' own rows reach the directory through the writer; then central homes a domain.
    await ok('north', ['domain', 'add', 'north.example']);
    await until(
      'central in the directory',
      async () => (await ctl('central', ['domain', 'add', 'central.example'])).code === 0,
      30_000,
    );

    // A mailbox created in north is known in central and south within seconds.
    const began = Date.now();
    await ok(
      'north',
      ['mailbox', 'add', 'north.example', '--role', 'ada', '--password-stdin'],
      'ada password 123\n',
    );
    await until('ada everywhere', async () => {
      for (const r of others)
        if (!(await lists(r, 'north.example')).includes('ada@north.example')) return false;
      return true;
    });
    console.log(`north -> central and south: ${Date.now() - began} ms (mailbox add, from the CLI's request)`);

    // Each region shows its replication state (federation status takes it from here).
    const state = JSON.parse(await ok('central', ['federation', 'state'])) as {
      replication: { role: string; writer: string; lastPullAt: string | null; hubReachable: boolean };
    };
    expect(state.replication).toMatchObject({ role: 'replica', writer: 'north', hubReachable: true });
    expect(state.replication.lastPullAt).not.toBeNull();

    // Change -> visibility in both other regions, over 50 changes made at the writer.
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      // At a random point of the regions' pull period, as changes come.
      await new Promise((r) => setTimeout(r, Math.random() * 500));
      await ok('north', ['alias', 'add', `bench${i}@north.example`, 'ada@north.example']);
      const t0 = Date.now();
      await until(`bench${i}`, async () => {
        for (const r of others)
          if (!(await ctl(r, ['alias', 'list', 'north.example'])).stdout.includes(`bench${i}@north.example`))
            return false;
        return true;
      });
      times.push(Date.now() - t0);
    }
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
    console.log(
      `change at the writer -> visible in central and south: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${times.at(-1)} ms (50 changes)`,
    );
    expect(pct(95)).toBeLessThan(2000);

    // Created in central (forwarded to north): confirmed means visible in central, then everywhere.
    await ok(
      'central',
      ['mailbox', 'add', 'central.example', '--role', 'bob', '--password-stdin'],
      'bob password 123\n',
    );
    expect(await lists('central', 'central.example')).toContain('bob@central.example');
    await until(
      'bob everywhere',
      async () =>
        (await lists('north', 'central.example')).includes('bob@central.example') &&
        (await lists('south', 'central.example')).includes('bob@central.example'),
    );

    // The hub stopped: mail flows within central, IMAP login works, changes are refused naming the hub.
    const stop = await runCli(['lab', 'stop', 'hub', '--dir', labDir], { cwd: work.path, timeoutMs: 60_000 });
    expect(stop.code, stop.stderr).toBe(0);
    const c = lab.regions.central;
    const smtp = await LineClient.connect(c.ports.smtp, c.host);
    expect((await smtp.smtpReply()).code).toBe(220);
    expect((await smtp.smtp('EHLO test.example')).code).toBe(250);
    expect((await smtp.smtp('MAIL FROM:<someone@elsewhere.example>')).code).toBe(250);
    expect((await smtp.smtp('RCPT TO:<bob@central.example>')).code).toBe(250);
    expect((await smtp.smtp('DATA')).code).toBe(354);
    expect((await smtp.smtp('Subject: while the hub is down\r\n\r\nhello\r\n.')).code).toBe(250);
    smtp.close();
    const imap = await LineClient.connect(c.ports.imaps, c.host, { tls: true });
    await imap.line();
    imap.write('a LOGIN bob@central.example "bob password 123"\r\n');
    expect(await readTagged(imap, 'a')).toMatch(/^a OK/);
    imap.write('b SELECT INBOX\r\n');
    const selected = await readUntilTagged(imap, 'b');
    expect(selected).toMatch(/\* 1 EXISTS/);
    imap.close();
    for (const region of ['central', 'north'] as const) {
      const refused = await ctl(region, ['domain', 'add', 'refused.example']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/replication hub is unreachable from the writer region north/);
    }
    const health = await healthz(c.host, c.ports.admin);
    expect(health.status).toBe(200);
    await until(
      'central notices',
      async () => (await healthz(c.host, c.ports.admin)).body.replication?.hubReachable === false,
    );

    // Hub back: changes work again and converge.
    const start = await runCli(['lab', 'start', 'hub', '--dir', labDir], {
      cwd: work.path,
      timeoutMs: 60_000,
    });
    expect(start.code, start.stderr).toBe(0);
    const hubPid = (JSON.parse(readFileSync(join(labDir, 'lab.json'), 'utf8')) as LabFile).hub.pid;
    if (hubPid) labPids.push(hubPid);
    await until(
      'a change goes through',
      async () => (await ctl('south', ['domain', 'add', 'south.example'])).code === 0,
      30_000,
    );
    await until('south.example everywhere', async () => {
      for (const r of ['north', 'central'] as const)
        if (!(await ctl(r, ['domain', 'list'])).stdout.includes('south.example')) return false;
      return true;
    });
    expect((await ctl('north', ['domain', 'list'])).stdout).not.toContain('refused.example');

    // A password changed at the writer ends bob's IMAP session in central, through replication.
    const session = await LineClient.connect(c.ports.imaps, c.host, { tls: true });
    await session.line();
    session.write('a LOGIN bob@central.example "bob password 123"\r\n');
    expect(await readTagged(session, 'a')).toMatch(/^a OK/);
    session.write('b SELECT INBOX\r\n');
    await readUntilTagged(session, 'b');
    const changed = Date.now();
    await ok(
      'north',
      ['mailbox', 'passwd', 'bob@central.example', '--password-stdin'],
      'bob new password 456\n',
    );
    await session.waitClosed(10_000);
    console.log(`password changed in north -> central's IMAP session ended: ${Date.now() - changed} ms`);

    // The same address from central and south at once: exactly one wins, the other is told.
    const [fromCentral, fromSouth] = await Promise.all([
      ctl('central', ['mailbox', 'add', 'north.example', '--role', 'same']),
      ctl('south', ['mailbox', 'add', 'north.example', '--role', 'same']),
    ]);
    const codes = [fromCentral.code, fromSouth.code].sort();
    expect(codes).toEqual([0, 2]);
    expect([fromCentral, fromSouth].find((r) => r.code === 2)?.stderr).toMatch(
      /same@north\.example already exists/,
    );
    await until('same everywhere', async () => {
      for (const r of ['north', 'central', 'south'] as const)
        if (!(await lists(r, 'north.example')).includes('same@north.example')) return false;
      return true;
    });

    const down = await runCli(['lab', 'down', '--dir', labDir], { cwd: work.path, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    for (const pid of labPids) expect(alive(pid)).toBe(false);
  });
});

async function readTagged(client: LineClient, tag: string): Promise<string> {
  for (;;) {
    const line = await client.line();
    if (line.startsWith(`${tag} `)) return line;
  }
}

async function readUntilTagged(client: LineClient, tag: string): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.line();
    lines.push(line);
    if (line.startsWith(`${tag} `)) return lines.join('\n');
  }
}

function healthz(
  host: string,
  port: number,
): Promise<{ status: number; body: { replication?: { hubReachable?: boolean } } }> {
  return new Promise((done) => {
    const req = get({ host, port, path: '/healthz', rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        try {
          done({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          done({ status: res.statusCode ?? 0, body: {} });
        }
      });
    });
    req.on('error', () => done({ status: 0, body: {} }));
  });
}
