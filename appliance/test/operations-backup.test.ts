/**
 * Backup and restore (issue 16): `delegato backup <dir>` (a real CLI process, through the running
 * appliance's control socket) is taken while a stream of deliveries goes on; the snapshot restored with
 * `delegato restore <dir>` into a fresh data dir holds every message acknowledged (250) before the backup
 * began, and the restored appliance serves the same mail over IMAP. The second backup is incremental: it
 * copies only the message files the first did not have. Restore refuses a data dir that is not fresh.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { listSnapshots } from '../src/jobs/backup.js';
import { listenerPort, OP, OPERATOR_PASSWORD, startTestAppliance } from './admin-support.js';
import { startApplianceWith, testConfig } from './appliance-support.js';
import { imapInbox, mxSend } from './operations-support.js';

const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));
const ROSE = 'rose@iat.example';
const PASSWORD = 'Mailbox-Pass-1';
const work = tempDir('delegato-backup-');
const backupDir = join(work.path, 'backups');
const scheduledDir = join(work.path, 'scheduled');
let t: Awaited<ReturnType<typeof startTestAppliance>>;
let restored: RunningAppliance | undefined;

function cli(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: work.path,
      env: { ...process.env, DELEGATO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  t = await startTestAppliance('delegato-backup-app-', {
    DELEGATO_OPERATIONS_BACKUP_DIR: scheduledDir,
    DELEGATO_OPERATIONS_BACKUP_KEEP: '1',
  });
  await t.app.directory.addDomain(OP, 'iat.example');
  await t.app.directory.addMailbox(OP, {
    domain: 'iat.example',
    kind: 'role',
    localPart: 'rose',
    password: PASSWORD,
  });
}, 60_000);

afterAll(async () => {
  await restored?.stop();
  // A second stop of the first appliance (the last test stopped it) only removes its temp dir.
  await t?.stop();
  work.remove();
});

describe('backup and restore', { timeout: 120_000 }, () => {
  it('a backup taken during a delivery stream restores every message acknowledged before it began', async () => {
    const mx = listenerPort(t.app, 'smtp');
    const dataDir = dirname(t.app.store.dir);
    /** Subject -> when its 250 arrived. */
    const acked = new Map<string, number>();
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const subject = `stream-${++n}`;
        await mxSend(mx, 'a@outside.example', ROSE, `${subject}\r\n${'x'.repeat(2000)}`);
        acked.set(subject, Date.now());
      }
    };
    const senders = [sender(), sender()];
    while (acked.size < 30) await new Promise((r) => setTimeout(r, 20));

    const began = Date.now();
    const first = await cli(['backup', backupDir], dataDir);
    const ended = Date.now();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^backup \d{8}T\d{6}Z in /);
    // The stream went on during the backup.
    expect([...acked.values()].filter((at) => at > began && at < ended).length).toBeGreaterThan(0);
    const duringOrAfter = [...acked.values()].filter((at) => at > began).length;
    while (acked.size < 30 + duringOrAfter + 10) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(senders);
    const before = [...acked].filter(([, at]) => at < began).map(([s]) => s);
    expect(before.length).toBeGreaterThanOrEqual(30);
    expect(ended).toBeGreaterThan(began);

    // Incremental: the second snapshot copies the message files that arrived since, not all of them.
    await new Promise((r) => setTimeout(r, 1100)); // snapshot ids are per second
    const second = await cli(['backup', backupDir, '--json'], dataDir);
    expect(second.code, second.stderr).toBe(0);
    const r2 = JSON.parse(second.stdout) as { blobs: number; filesCopied: number; snapshot: string };
    expect(r2.blobs).toBe(acked.size);
    expect(r2.filesCopied).toBeLessThan(r2.blobs);
    const snapshots = await listSnapshots(backupDir);
    expect(snapshots).toHaveLength(2);

    // Restore the snapshot taken during the stream into a fresh data dir, and start an appliance on it.
    const fresh = join(work.path, 'restored', 'var');
    const restore = await cli(['restore', backupDir, '--snapshot', snapshots[0] as string], fresh);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`restored backup ${snapshots[0]}`);
    expect(existsSync(join(fresh, 'directory.db'))).toBe(true);
    // The attachment gateway's database and the statistics come back too.
    expect(existsSync(join(fresh, 'gateway', 'gateway.db'))).toBe(true);
    expect(existsSync(join(fresh, 'stats.db'))).toBe(true);
    // Not into a data dir that has one.
    const again = await cli(['restore', backupDir], fresh);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty.*fresh data dir/);

    restored = await startApplianceWith(testConfig(join(work.path, 'restored')), OPERATOR_PASSWORD);
    const original = await imapInbox(listenerPort(t.app, 'imap'), ROSE, PASSWORD);
    const copy = await imapInbox(listenerPort(restored, 'imap'), ROSE, PASSWORD);
    const subjectOf = (m: { source: string }) => /\r\n\r\n(stream-\d+)/.exec(m.source)?.[1] ?? '';
    const restoredSubjects = new Set(copy.map(subjectOf));
    for (const s of before) expect(restoredSubjects.has(s), `${s} acknowledged before the backup`).toBe(true);
    // The same mail: every restored message is byte for byte the original one.
    const originals = new Map(original.map((m) => [subjectOf(m), m.source]));
    for (const m of copy) expect(m.source).toBe(originals.get(subjectOf(m)));
    expect(copy.length).toBeLessThan(original.length);
  });

  it('the scheduled backup job keeps operations.backupKeep snapshots', async () => {
    const dataDir = dirname(t.app.store.dir);
    for (let i = 0; i < 2; i++) {
      const run = await cli(['jobs', 'run', 'backup'], dataDir);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^backup: ok in \d+ ms/);
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect(await listSnapshots(scheduledDir)).toHaveLength(1);
    const jobs = JSON.parse((await cli(['jobs', '--json'], dataDir)).stdout) as Array<{
      name: string;
      schedule: string;
      runs: number;
    }>;
    expect(jobs.find((j) => j.name === 'backup')).toMatchObject({ schedule: '41 2 * * *', runs: 2 });
  });

  it('without a running appliance, delegato backup takes the snapshot itself', async () => {
    const dataDir = dirname(t.app.store.dir);
    await t.app.stop();
    const offline = join(work.path, 'offline');
    const r = await cli(['backup', offline, '--json'], dataDir);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { blobs: number; snapshot: string };
    expect(result.blobs).toBeGreaterThan(30);
    const fresh = join(work.path, 'offline-restored', 'var');
    expect((await cli(['restore', offline], fresh)).code).toBe(0);
    const app = await startApplianceWith(testConfig(join(work.path, 'offline-restored')), OPERATOR_PASSWORD);
    try {
      expect(await imapInbox(listenerPort(app, 'imap'), ROSE, PASSWORD)).toHaveLength(result.blobs);
    } finally {
      await app.stop();
    }
  });
});
