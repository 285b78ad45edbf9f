/**
 * "A region whose code expects a newer schema waits for it" (issue 14, item 1): a real hub, a writer whose
 * code knows the package's migrations, and a replica whose code expects one more (a copy of the migrations
 * folder plus `9999_schema_wait_probe.sql`). The replica's open waits, pulling, and says what it misses;
 * it never migrates itself. Once the writer runs the newer code (reopened with the same folder), it applies
 * the migration and pushes it, and the replica's open completes with the new table in its schema.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Directory, FederationKey, MIGRATIONS_DIR, ReplicatedWriter, Replication } from '@delegato/directory';
import { HubSupervisor } from '@delegato/federation';
import { createLogger } from '@delegato/observability';
import { tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const work = tempDir('delegato-schema-wait-');
const logger = createLogger({ destination: new PassThrough(), level: 'warn' });
const hub = new HubSupervisor({ dir: join(work.path, 'hub'), logger });
const key = FederationKey.loadOrCreate(join(work.path, 'federation.key'));
const newer = join(work.path, 'migrations-newer');
const closers: Array<() => Promise<unknown>> = [];

const base = (region: string) => ({
  path: join(work.path, `${region}.db`),
  regionId: region,
  timezone: 'UTC',
  retentionDays: 30,
  cramMd5: false,
  key,
  sync: { url: hub.url },
});

async function openWriter(migrationsDir?: string): Promise<Directory> {
  let replication: Replication | undefined;
  const directory = await Directory.open({
    ...base('north'),
    sync: { url: hub.url },
    role: 'writer',
    ...(migrationsDir ? { migrationsDir } : {}),
    writer: (local) => {
      replication = new Replication(local.engine, { role: 'writer', writer: 'north', intervalMs: 200 });
      return new ReplicatedWriter(local, replication);
    },
  });
  return Object.assign(directory, { replication: replication as Replication });
}

/** Whether the probe table is in `d`'s schema (rows come back as arrays or as objects by driver). */
const tables = async (d: Directory) =>
  (
    (await d.db.all(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_wait_probe'",
    )) as Array<unknown[] | { name: string }>
  ).map((r) => (Array.isArray(r) ? r[0] : r.name));

beforeAll(async () => {
  mkdirSync(newer);
  cpSync(MIGRATIONS_DIR, newer, { recursive: true });
  writeFileSync(
    join(newer, '9999_schema_wait_probe.sql'),
    'CREATE TABLE schema_wait_probe (id TEXT PRIMARY KEY NOT NULL, note TEXT);\n',
  );
  await hub.start();
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await hub.stop();
  work.remove();
}, 60_000);

describe('a replica whose code expects a newer schema', () => {
  it('waits, pulling, until the writer migrated; never migrates itself', async () => {
    const old = await openWriter();
    const waits: string[][] = [];
    let opened: Directory | undefined;
    const replicaOpen = Directory.open({
      ...base('south'),
      role: 'replica',
      migrationsDir: newer,
      waitForSchema: { intervalMs: 200, onWait: (pending) => waits.push(pending) },
    }).then((d) => {
      opened = d;
      closers.push(() => d.close());
      return d;
    });
    // It waits, naming the one migration the writer has not applied.
    const waitedSince = Date.now();
    while (waits.length < 3) await new Promise((r) => setTimeout(r, 50));
    expect(waits[0]).toEqual(['9999_schema_wait_probe']);
    expect(opened).toBeUndefined();
    await new Promise((r) => setTimeout(r, 600));
    expect(opened).toBeUndefined();

    // The writer is upgraded: the newer code migrates at start and pushes.
    await old.close();
    const upgraded = await openWriter(newer);
    closers.push(() => upgraded.close());
    expect(await tables(upgraded)).toEqual(['schema_wait_probe']);
    const replica = await replicaOpen;
    console.log(`replica waited ${Date.now() - waitedSince} ms for the writer's schema`);
    expect(await tables(replica)).toEqual(['schema_wait_probe']);
    expect(waits.every((w) => w.join() === '9999_schema_wait_probe')).toBe(true);
  }, 60_000);

  it('without waitForSchema, a replica behind the code refuses to open, naming what it misses', async () => {
    const older = join(work.path, 'migrations-newest');
    mkdirSync(older);
    cpSync(newer, older, { recursive: true });
    writeFileSync(
      join(older, '9999_zz_later.sql'),
      'CREATE TABLE later_probe (id TEXT PRIMARY KEY NOT NULL);\n',
    );
    await expect(
      Directory.open({ ...base('central'), role: 'replica', migrationsDir: older }),
    ).rejects.toThrow(
      /directory schema is behind this code \(missing 9999_zz_later\): waiting for the writer/,
    );
  }, 60_000);
});
