/**
 * The SQL in migrations/ is the source of truth for the database; src/schema.ts is what the code reads and
 * writes through. This test opens a migrated database and checks the two agree, table by table and column
 * by column, and that the replication rules (text `id` primary keys, UNIQUE addresses) hold.
 */
import { is } from 'drizzle-orm';
import { getTableConfig, SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Directory } from '../src/index.js';
import * as schema from '../src/schema.js';
import { tempDirectory } from './helpers.js';

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}
interface IndexListRow {
  name: string;
  unique: number;
  origin: 'c' | 'u' | 'pk';
  partial: number;
}

const tables = Object.entries(schema as Record<string, unknown>)
  .filter((entry): entry is [string, SQLiteTable] => is(entry[1], SQLiteTable))
  .map(([exportName, table]) => ({ exportName, table, config: getTableConfig(table) }));

let dir: Directory;
let cleanup: () => Promise<void>;

async function pragma<T>(statement: string): Promise<T[]> {
  const stmt = await dir.engine.raw.prepare(statement);
  return (await stmt.all()) as T[];
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Unique column sets of a table in the database (constraints and unique indexes, not the primary key). */
async function dbUniqueSets(table: string): Promise<string[]> {
  const out: string[] = [];
  for (const idx of await pragma<IndexListRow>(`PRAGMA index_list(${quoted(table)})`)) {
    if (idx.unique !== 1 || idx.origin === 'pk') continue;
    const cols = await pragma<{ seqno: number; name: string }>(`PRAGMA index_info(${quoted(idx.name)})`);
    out.push(
      cols
        .sort((a, b) => a.seqno - b.seqno)
        .map((c) => c.name)
        .join(','),
    );
  }
  return out.sort();
}

function columnName(c: unknown): string {
  if (!is(c, SQLiteColumn)) throw new Error('index on an expression: extend this test');
  return c.name;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDirectory());
});

afterAll(async () => {
  await cleanup();
});

describe('src/schema.ts against the migrated database', () => {
  it('exports every table the migrations create, and nothing else', async () => {
    const inDb = (
      await pragma<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
    ).map((r) => r.name);
    expect(tables.map((t) => t.config.name).sort()).toEqual(inDb);
    expect(inDb).toEqual(
      expect.arrayContaining(['addresses', 'audit_log', 'domains', 'mailboxes', 'schema_migrations']),
    );
  });

  describe.each(tables)('$exportName', ({ config }) => {
    it('has the same columns, types, NOT NULL flags and primary key', async () => {
      const info = await pragma<ColumnInfo>(`PRAGMA table_info(${quoted(config.name)})`);
      expect(info.length).toBeGreaterThan(0);
      const fromDb = info
        .map((c) => ({ name: c.name, type: c.type.toLowerCase(), notNull: c.notnull === 1, pk: c.pk > 0 }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const fromSchema = config.columns
        .map((c) => ({ name: c.name, type: c.getSQLType().toLowerCase(), notNull: c.notNull, pk: c.primary }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(fromSchema).toEqual(fromDb);
      // No composite primary keys declared on the side.
      expect(config.primaryKeys).toEqual([]);
    });

    it('has a text primary key named id', async () => {
      const info = await pragma<ColumnInfo>(`PRAGMA table_info(${quoted(config.name)})`);
      const pks = info.filter((c) => c.pk > 0);
      expect(pks.map((c) => [c.name, c.type.toUpperCase(), c.notnull])).toEqual([['id', 'TEXT', 1]]);
      const idColumn = config.columns.find((c) => c.name === 'id');
      expect(idColumn?.primary).toBe(true);
      expect(idColumn?.getSQLType()).toBe('text');
    });

    it('has the same unique constraints', async () => {
      const fromSchema = [
        ...config.columns.filter((c) => c.isUnique).map((c) => c.name),
        ...config.uniqueConstraints.map((u) => u.columns.map((c) => c.name).join(',')),
        ...config.indexes
          .filter((i) => i.config.unique)
          .map((i) => i.config.columns.map(columnName).join(',')),
      ].sort();
      expect(fromSchema).toEqual(await dbUniqueSets(config.name));
    });

    it('has the same named indexes', async () => {
      const created = (await pragma<IndexListRow>(`PRAGMA index_list(${quoted(config.name)})`)).filter(
        (i) => i.origin === 'c',
      );
      const fromDb: Array<{ name: string; columns: string[]; unique: boolean }> = [];
      for (const idx of created) {
        const cols = await pragma<{ seqno: number; name: string }>(`PRAGMA index_info(${quoted(idx.name)})`);
        fromDb.push({
          name: idx.name,
          columns: cols.sort((a, b) => a.seqno - b.seqno).map((c) => c.name),
          unique: idx.unique === 1,
        });
      }
      const fromSchema = config.indexes.map((i) => ({
        name: i.config.name,
        columns: i.config.columns.map(columnName),
        unique: i.config.unique,
      }));
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(fromSchema.sort(byName)).toEqual(fromDb.sort(byName));
    });

    it('makes every address column UNIQUE on its own', async () => {
      const info = await pragma<ColumnInfo>(`PRAGMA table_info(${quoted(config.name)})`);
      const addressColumns = info.filter((c) => c.name === 'address').map((c) => c.name);
      const unique = await dbUniqueSets(config.name);
      for (const column of addressColumns) expect(unique).toContain(column);
      for (const column of config.columns.filter((c) => c.name === 'address')) {
        expect(column.isUnique).toBe(true);
      }
    });
  });

  it('covers the address columns that exist today', async () => {
    // Guards the check above against passing vacuously.
    const withAddress = [];
    for (const { config } of tables) {
      const info = await pragma<ColumnInfo>(`PRAGMA table_info(${quoted(config.name)})`);
      if (info.some((c) => c.name === 'address')) withAddress.push(config.name);
    }
    expect(withAddress.sort()).toEqual(['addresses', 'mailboxes']);
    const sqlOf = await pragma<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('addresses', 'mailboxes')",
    );
    for (const row of sqlOf) expect(row.sql).toMatch(/\baddress TEXT NOT NULL UNIQUE\b/);
  });
});
