/**
 * The committed migrations and the migration runner: fresh databases, existing databases gaining a new
 * (additive) migration, refusal of non-additive ones, and replicas waiting for the writer.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { Directory, type DirectoryOptions, FederationKey } from '../src/index.js';
import {
  ADDITIVE_STATEMENT,
  loadMigrations,
  MIGRATIONS_DIR,
  migrate,
  pendingMigrations,
  splitStatements,
} from '../src/migrate.js';
import { addresses, regions } from '../src/schema.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const T1 = new Date('2026-03-02T10:00:00Z');

let root: string;
let dbPath: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'delegato-migrations-'));
  dbPath = join(root, 'directory.db');
});

afterEach(async () => {
  for (const handle of open.splice(0)) await handle.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function openEngine(): Promise<Engine> {
  const engine = await Engine.open({ path: dbPath });
  open.push(engine);
  return engine;
}

async function closeEngine(engine: Engine): Promise<void> {
  open.splice(open.indexOf(engine), 1);
  await engine.close();
}

function options(overrides: Partial<DirectoryOptions> = {}): DirectoryOptions {
  return {
    path: dbPath,
    regionId: 'local',
    timezone: 'UTC',
    retentionDays: 30,
    cramMd5: true,
    key: FederationKey.fromBytes(randomBytes(32)),
    ...overrides,
  };
}

async function rows<T>(engine: Engine, statement: string): Promise<T[]> {
  return (await (await engine.raw.prepare(statement)).all()) as T[];
}

async function tableNames(engine: Engine): Promise<string[]> {
  return (
    await rows<{ name: string }>(
      engine,
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
  ).map((r) => r.name);
}

async function applied(engine: Engine): Promise<Array<{ id: string; applied_at: string }>> {
  return rows(engine, 'SELECT id, applied_at FROM schema_migrations ORDER BY id');
}

async function columnsOf(engine: Engine, table: string): Promise<string[]> {
  return (await rows<{ name: string }>(engine, `PRAGMA table_info(${table})`)).map((c) => c.name);
}

/** A migrations directory holding copies of the committed files plus `extra` (file name -> SQL). */
function migrationsDir(extra: Record<string, string>): string {
  const dir = join(root, `migrations-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  for (const f of readdirSync(MIGRATIONS_DIR)) {
    if (f.endsWith('.sql')) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
  }
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

const committed = loadMigrations();
const committedIds = committed.map((m) => m.id);

describe('the committed migrations', () => {
  it('are all loaded: every .sql file has a well-formed NNNN_name.sql name', () => {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(committedIds.map((id) => `${id}.sql`)).toEqual(files);
    expect(committedIds[0]).toBe('0001_initial');
    expect(new Set(committedIds.map((id) => id.slice(0, 4))).size).toBe(committedIds.length);
  });

  it.each(committed.flatMap((m) => m.statements.map((statement) => ({ id: m.id, statement }))))(
    '$id: additive statement: $statement',
    ({ statement }) => {
      expect(statement).toMatch(ADDITIVE_STATEMENT);
      expect(statement).not.toMatch(/\b(DROP|RENAME)\b/i);
    },
  );

  it.each(committed)('$id creates only tables with a TEXT PRIMARY KEY id', ({ statements }) => {
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements.filter((x) => /^CREATE\s+TABLE/i.test(x))) {
      expect(s).toMatch(/\(\s*id TEXT PRIMARY KEY NOT NULL,/);
      // Every address column of a new table is UNIQUE (migrations/README.md).
      for (const line of s.split('\n').filter((l) => /^\s*address\s/i.test(l))) {
        expect(line).toMatch(/\bUNIQUE\b/);
      }
    }
  });
});

describe('ADDITIVE_STATEMENT and splitStatements', () => {
  it.each([
    'CREATE TABLE x (id TEXT PRIMARY KEY NOT NULL)',
    'create table x (id text primary key not null)',
    'CREATE INDEX x_a ON x (a)',
    'CREATE UNIQUE INDEX x_a ON x (a)',
    'ALTER TABLE mailboxes ADD COLUMN test_extra TEXT',
  ])('accepts %s', (statement) => {
    expect(statement).toMatch(ADDITIVE_STATEMENT);
  });

  it.each([
    'DROP TABLE groups',
    'DROP INDEX mailboxes_domain',
    'ALTER TABLE mailboxes RENAME TO boxes',
    'ALTER TABLE mailboxes RENAME COLUMN flag TO flags',
    'ALTER TABLE mailboxes DROP COLUMN flag',
    'DELETE FROM regions',
    'UPDATE mailboxes SET flag = NULL',
    "INSERT INTO regions VALUES ('x', 'x', 'x', 'x')",
    'CREATE VIEW v AS SELECT 1',
    'CREATE TRIGGER t AFTER INSERT ON regions BEGIN SELECT 1; END',
  ])('refuses %s', (statement) => {
    expect(statement).not.toMatch(ADDITIVE_STATEMENT);
  });

  it('splits on a semicolon at the end of a line and drops comment lines', () => {
    expect(
      splitStatements(
        '-- a comment\nCREATE TABLE a (\n  id TEXT\n);\n\n-- another\nCREATE INDEX i ON a (id);\n',
      ),
    ).toEqual(['CREATE TABLE a (\n  id TEXT\n)', 'CREATE INDEX i ON a (id)']);
  });
});

describe('on an empty database', () => {
  it('applies every migration and records it in schema_migrations', async () => {
    const engine = await openEngine();
    expect(await migrate(engine, () => T0)).toEqual(committedIds);
    expect(await applied(engine)).toEqual(committedIds.map((id) => ({ id, applied_at: T0.toISOString() })));
    expect(await tableNames(engine)).toEqual(
      expect.arrayContaining(['addresses', 'admins', 'audit_log', 'domains', 'mailboxes', 'regions']),
    );
    expect(await pendingMigrations(engine)).toEqual([]);
  });

  it('is idempotent: running again or re-opening the directory applies nothing', async () => {
    const engine = await openEngine();
    await migrate(engine, () => T0);
    expect(await migrate(engine, () => T1)).toEqual([]);
    await closeEngine(engine);

    const dir = await Directory.open(options({ now: () => T1 }));
    open.push(dir);
    expect(await dir.listRegions()).toEqual([{ name: 'local', title: 'local' }]);
    await dir.close();
    open.splice(open.indexOf(dir), 1);
    const again = await Directory.open(options({ now: () => T1 }));
    open.push(again);
    expect(await applied(again.engine)).toEqual(
      committedIds.map((id) => ({ id, applied_at: T0.toISOString() })),
    );
    // The region is created once, not once per open.
    expect(await again.listRegions()).toEqual([{ name: 'local', title: 'local' }]);
  });
});

describe('0002_admin_access on a database made by 0001', () => {
  it('adds the admin columns, empty for existing admins, who keep working', async () => {
    const engine = await openEngine();
    await migrate(engine, () => T0, committed.slice(0, 1));
    const now = T0.toISOString();
    await engine.exec(
      `INSERT INTO admins (id, username, role, password_hash, created_at, updated_at) VALUES ('AD1', 'old', 'operator', 'x', '${now}', '${now}')`,
    );
    expect(await columnsOf(engine, 'admins')).not.toContain('totp_secret');
    expect(await migrate(engine, () => T1)).toEqual(committedIds.slice(1));
    expect(await columnsOf(engine, 'admins')).toEqual(
      expect.arrayContaining(['allowed_networks', 'cert_fingerprint', 'totp_secret']),
    );
    await closeEngine(engine);
    const dir = await Directory.open(options({ now: () => T1 }));
    open.push(dir);
    expect(await dir.actorForAdmin('old', '198.51.100.1')).toMatchObject({ kind: 'operator', name: 'old' });
    expect(await dir.adminTotpSecret('old')).toBeNull();
  });
});

describe('0003_sessions_valid_after on a database made by 0001 and 0002', () => {
  it('adds the stamps, empty for existing accounts, whose sessions stay valid', async () => {
    const engine = await openEngine();
    await migrate(engine, () => T0, committed.slice(0, 2));
    const now = T0.toISOString();
    await engine.exec(
      `INSERT INTO admins (id, username, role, password_hash, created_at, updated_at) VALUES ('AD1', 'old', 'operator', 'x', '${now}', '${now}')`,
    );
    expect(await columnsOf(engine, 'admins')).not.toContain('sessions_valid_after');
    expect(await migrate(engine, () => T1)).toEqual(committedIds.slice(2));
    expect(await columnsOf(engine, 'admins')).toContain('sessions_valid_after');
    expect(await columnsOf(engine, 'mailboxes')).toContain('sessions_valid_after');
    await closeEngine(engine);
    const dir = await Directory.open(options({ now: () => T1 }));
    open.push(dir);
    expect(await dir.actorForAdmin('old', '198.51.100.1', { issuedAt: T0.getTime() })).toMatchObject({
      kind: 'operator',
    });
  });
});

describe('on an existing database', () => {
  it('applies only the new migration and keeps the data', async () => {
    const engine = await openEngine();
    expect(await migrate(engine, () => T0, committed.slice(0, 1))).toEqual(['0001_initial']);
    const now = T0.toISOString();
    await engine.db.insert(regions).values({ id: 'R1', name: 'local', title: 'Local', createdAt: now });
    // Raw SQL: drizzle would name every column of today's schema, and 0001 has fewer.
    await engine.exec(
      `INSERT INTO domains (id, name, region_id, created_at, updated_at) VALUES ('D1', 'iat.example', 'R1', '${now}', '${now}')`,
    );
    await engine.exec(
      `INSERT INTO mailboxes (id, domain_id, kind, first_name, last_name, username, local_part, address, state, created_at, updated_at) VALUES ('M1', 'D1', 'personal', 'Rose', 'Pinkcheeks', 'rose.pinkcheeks', 'rose.pinkcheeks', 'rose.pinkcheeks@iat.example', 'active', '${now}', '${now}')`,
    );
    await engine.db.insert(addresses).values({
      id: 'A1',
      address: 'rose.pinkcheeks@iat.example',
      domainId: 'D1',
      kind: 'official',
      mailboxId: 'M1',
      createdAt: now,
    });

    const dir = migrationsDir({
      '0099_test_extra.sql': [
        '-- test only: an additive change to an existing table, and a new table',
        'ALTER TABLE mailboxes ADD COLUMN test_extra TEXT;',
        'CREATE INDEX mailboxes_test_extra ON mailboxes (test_extra);',
        'CREATE TABLE test_notes (',
        '  id TEXT PRIMARY KEY NOT NULL,',
        '  address TEXT NOT NULL UNIQUE',
        ');',
        '',
      ].join('\n'),
    });
    const withExtra = loadMigrations(dir);
    expect(withExtra.map((m) => m.id)).toEqual([...committedIds, '0099_test_extra']);
    expect(await pendingMigrations(engine, withExtra)).toEqual([...committedIds.slice(1), '0099_test_extra']);

    expect(await migrate(engine, () => T1, withExtra)).toEqual([...committedIds.slice(1), '0099_test_extra']);
    expect(await pendingMigrations(engine, withExtra)).toEqual([]);
    expect((await applied(engine)).map((r) => r.id)).toEqual([...committedIds, '0099_test_extra']);

    // The data survived, the new column exists (empty for old rows) and is usable.
    const [row] = await rows<{ id: string; address: string; first_name: string; test_extra: string | null }>(
      engine,
      'SELECT id, address, first_name, test_extra FROM mailboxes',
    );
    expect(row).toEqual({
      id: 'M1',
      address: 'rose.pinkcheeks@iat.example',
      first_name: 'Rose',
      test_extra: null,
    });
    expect(await columnsOf(engine, 'mailboxes')).toContain('test_extra');
    expect(await columnsOf(engine, 'test_notes')).toEqual(['id', 'address']);
    const indexes = await rows<{ name: string }>(
      engine,
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'mailboxes_test_extra'",
    );
    expect(indexes).toHaveLength(1);
    await engine.exec("UPDATE mailboxes SET test_extra = 'x' WHERE id = 'M1'");
    expect(await rows(engine, 'SELECT test_extra FROM mailboxes')).toEqual([{ test_extra: 'x' }]);
    await closeEngine(engine);

    // The directory opens the upgraded database (an extra column does not disturb the code) and sees the data.
    const directory = await Directory.open(options());
    open.push(directory);
    const lookup = await directory.lookupRecipient('rose.pinkcheeks@iat.example');
    expect(lookup).toMatchObject({ kind: 'mailbox', mailboxId: 'M1', region: 'local' });
  });

  it.each([
    ['DROP TABLE groups;'],
    ['ALTER TABLE mailboxes RENAME TO boxes;'],
    ['ALTER TABLE mailboxes RENAME COLUMN flag TO flags;'],
    ['ALTER TABLE mailboxes DROP COLUMN flag;'],
  ])('refuses a non-additive migration (%s) and applies nothing', async (bad) => {
    const engine = await openEngine();
    await migrate(engine, () => T0, committed.slice(0, 1));
    const before = await tableNames(engine);
    const dir = migrationsDir({
      '0002_fine.sql': 'CREATE TABLE test_fine (id TEXT PRIMARY KEY NOT NULL);\n',
      '0003_bad.sql': `ALTER TABLE mailboxes ADD COLUMN test_extra TEXT;\n${bad}\n`,
    });
    await expect(migrate(engine, () => T1, loadMigrations(dir))).rejects.toThrow(
      /0003_bad has a non-additive statement/,
    );
    // Not even the additive migration before it, nor the additive statement in the same file.
    expect((await applied(engine)).map((r) => r.id)).toEqual(['0001_initial']);
    expect(await tableNames(engine)).toEqual(before);
    expect(await columnsOf(engine, 'mailboxes')).not.toContain('test_extra');
    expect(await columnsOf(engine, 'mailboxes')).toContain('flag');
  });

  it('refuses a non-additive migration on an empty database without creating anything', async () => {
    const engine = await openEngine();
    const dir = migrationsDir({ '0002_bad.sql': 'DROP TABLE groups;\n' });
    await expect(migrate(engine, () => T0, loadMigrations(dir))).rejects.toThrow(/non-additive/);
    expect(await applied(engine)).toEqual([]);
    expect(await tableNames(engine)).toEqual(['schema_migrations']);
  });
});

describe('a replica', () => {
  it('refuses to open an empty database, and does not change its schema', async () => {
    const replica = Directory.open(options({ role: 'replica' }));
    await expect(replica).rejects.toMatchObject({ name: 'DirectoryError', code: 'unavailable' });
    await expect(replica).rejects.toThrow(/schema is behind.*0001_initial/);
    // It never migrates itself: not even the bookkeeping table is created (the writer's replicates).
    const engine = await openEngine();
    expect(await tableNames(engine)).toEqual([]);
  });

  it('sees a migration the writer has not applied yet as pending, without applying it', async () => {
    const engine = await openEngine();
    await migrate(engine, () => T0);
    await closeEngine(engine);
    const dir = migrationsDir({
      '0099_test_extra.sql': 'ALTER TABLE mailboxes ADD COLUMN test_extra TEXT;\n',
    });
    const e2 = await openEngine();
    expect(await pendingMigrations(e2, loadMigrations(dir))).toEqual(['0099_test_extra']);
    expect(await columnsOf(e2, 'mailboxes')).not.toContain('test_extra');
  });

  it('opens once the writer has migrated, without creating its region', async () => {
    const writer = await Directory.open(options({ regionId: 'pisa' }));
    await writer.close();
    const replica = await Directory.open(options({ role: 'replica', regionId: 'rome' }));
    open.push(replica);
    expect(await replica.listRegions()).toEqual([{ name: 'pisa', title: 'pisa' }]);
  });
});
