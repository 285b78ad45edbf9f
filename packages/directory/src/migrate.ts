/**
 * Applies the committed SQL migrations (migrations/*.sql) in file-name order, each in one transaction.
 * Only the directory's writer migrates; a replica waits for the writer's migration to reach it: schema
 * changes replicate only when additive, and a region never migrates itself
 * (docs/decisions/0002-directory-addresses-table.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Engine } from './engine.js';
import { schemaMigrations } from './schema.js';

/**
 * The package's own migrations/ folder, found through its package.json so that the sources (src/, under
 * Vitest) and the compiled output (dist/src/, in production) read the same files.
 */
export const MIGRATIONS_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@delegato/directory/package.json')),
  'migrations',
);

export interface Migration {
  id: string;
  statements: string[];
}

/** Splits a migration file into statements (`;` at the end of a line ends one); drops comments. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      id: f.replace(/\.sql$/, ''),
      statements: splitStatements(readFileSync(`${dir}/${f}`, 'utf8')),
    }));
}

/**
 * The statements the replication engine carries to other replicas (measured: a RENAME does not reach them,
 * a table rebuild breaks the hub; docs/decisions/0002-directory-addresses-table.md).
 */
export const ADDITIVE_STATEMENT =
  /^(CREATE\s+TABLE|CREATE\s+(UNIQUE\s+)?INDEX|ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN)\b/i;

const BOOKKEEPING =
  'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)';

export async function appliedMigrations(engine: Engine): Promise<Set<string>> {
  await engine.exec(BOOKKEEPING);
  const rows = await engine.db.select({ id: schemaMigrations.id }).from(schemaMigrations);
  return new Set(rows.map((r) => r.id));
}

/** Applies what is missing; returns the ids applied now. */
export async function migrate(
  engine: Engine,
  now: () => Date,
  migrations = loadMigrations(),
): Promise<string[]> {
  const done = await appliedMigrations(engine);
  const pending = migrations.filter((m) => !done.has(m.id));
  // Check every pending migration before applying any, so a refused one leaves the schema untouched.
  for (const m of pending) {
    for (const stmt of m.statements) {
      // One statement per line-terminated `;`: a second statement after `;` on the same line would
      // slip past this check, so a `;` inside a statement is refused too.
      if (!ADDITIVE_STATEMENT.test(stmt) || stmt.includes(';'))
        throw new Error(`migration ${m.id} has a non-additive statement: ${stmt}`);
    }
  }
  const applied: string[] = [];
  for (const m of pending) {
    await engine.transaction(async (tx) => {
      for (const stmt of m.statements) await tx.run(sql.raw(stmt));
      await tx.insert(schemaMigrations).values({ id: m.id, appliedAt: now().toISOString() });
    });
    applied.push(m.id);
  }
  return applied;
}

/** For a replica: the migrations this code expects that the replica does not have yet. */
export async function pendingMigrations(engine: Engine, migrations = loadMigrations()): Promise<string[]> {
  // Read-only: a replica must not create even the bookkeeping table (the writer's reaches it).
  const bookkeeping = await (
    await engine.raw.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
  ).all();
  if (bookkeeping.length === 0) return migrations.map((m) => m.id);
  const rows = await engine.db.select({ id: schemaMigrations.id }).from(schemaMigrations);
  const done = new Set(rows.map((r) => r.id));
  return migrations.filter((m) => !done.has(m.id)).map((m) => m.id);
}
