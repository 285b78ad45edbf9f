/**
 * Undoing local changes through the engine's change-data-capture table.
 *
 * A replica of @tursodatabase/sync records every local row change in `turso_cdc` (that table is what a push
 * sends): `change_id` (increasing), `change_type` (1 insert, 0 update, -1 delete, 2 the end of a
 * transaction), `table_name`, `id` (the rowid), and the row's `before` and `after` images in SQLite's
 * record format. Changes pulled from the hub are not recorded there.
 *
 * The writer region uses it for the compensating write (docs/decisions/0009-directory-writer-forwarding.md):
 * it notes the last change id before a change, and when the push after the change fails, it applies the
 * inverse of every row change recorded since, newest first, in one transaction: an insert is deleted, an
 * update gets its before-image back, a deleted row is inserted again with its rowid. The next successful push
 * carries the change and its inverse, which net to nothing at the hub and in every other region. Generic: it
 * needs no knowledge of the change that ran, also when a change spans several transactions.
 */

/** One row change of `turso_cdc`, decoded. */
export interface CapturedChange {
  changeId: number;
  type: 'insert' | 'update' | 'delete';
  table: string;
  rowid: number;
  before: unknown[] | null;
}

/** Reads one SQLite varint at `pos`: [value, next position]. */
function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0n;
  for (let i = 0; i < 9; i++) {
    const byte = buf[pos + i] ?? 0;
    if (i === 8) return [Number((value << 8n) | BigInt(byte)), pos + 9];
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) return [Number(value), pos + i + 1];
  }
  return [Number(value), pos + 9];
}

function intOf(buf: Uint8Array, pos: number, len: number): number | bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(buf[pos + i] ?? 0);
  const bits = BigInt(len * 8);
  if (v >= 1n << (bits - 1n)) v -= 1n << bits;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const INT_LEN: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8 };

/** Decodes a record in SQLite's record format (https://www.sqlite.org/fileformat.html#record_format). */
export function decodeRecord(record: Uint8Array): unknown[] {
  const [headerSize, first] = varint(record, 0);
  const types: number[] = [];
  for (let pos = first; pos < headerSize; ) {
    const [t, next] = varint(record, pos);
    types.push(t);
    pos = next;
  }
  const values: unknown[] = [];
  let body = headerSize;
  for (const t of types) {
    if (t === 0) values.push(null);
    else if (t in INT_LEN) {
      const len = INT_LEN[t] as number;
      values.push(intOf(record, body, len));
      body += len;
    } else if (t === 7) {
      values.push(Buffer.from(record.buffer, record.byteOffset + body, 8).readDoubleBE(0));
      body += 8;
    } else if (t === 8) values.push(0);
    else if (t === 9) values.push(1);
    else if (t >= 12 && t % 2 === 0) {
      const len = (t - 12) / 2;
      values.push(Buffer.from(record.subarray(body, body + len)));
      body += len;
    } else if (t >= 13) {
      const len = (t - 13) / 2;
      values.push(Buffer.from(record.subarray(body, body + len)).toString('utf8'));
      body += len;
    } else throw new Error(`unsupported record serial type ${t}`);
  }
  return values;
}

const TYPES: Record<number, CapturedChange['type']> = { 1: 'insert', 0: 'update', [-1]: 'delete' };

/** Turns `turso_cdc` rows (as objects) into row changes; transaction markers and schema changes are left out. */
export function capturedChanges(rows: readonly Record<string, unknown>[]): CapturedChange[] {
  const out: CapturedChange[] = [];
  for (const row of rows) {
    const type = TYPES[Number(row.change_type)];
    const table = row.table_name;
    if (!type || typeof table !== 'string' || table === 'sqlite_schema') continue;
    const before = row.before instanceof Uint8Array ? decodeRecord(row.before) : null;
    out.push({ changeId: Number(row.change_id), type, table, rowid: Number(row.id), before });
  }
  return out;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The statements that undo `changes` (newest first). `columns(table)` gives a table's column names in
 * declaration order (PRAGMA table_info); a before-image shorter than the table (a row written before an
 * `ADD COLUMN`) restores the columns it has.
 */
export function inverseStatements(
  changes: readonly CapturedChange[],
  columns: (table: string) => readonly string[],
): Array<{ sql: string; params: unknown[] }> {
  const out: Array<{ sql: string; params: unknown[] }> = [];
  for (const c of [...changes].sort((a, b) => b.changeId - a.changeId)) {
    const t = ident(c.table);
    if (c.type === 'insert') {
      out.push({ sql: `DELETE FROM ${t} WHERE rowid = ?`, params: [c.rowid] });
      continue;
    }
    if (!c.before) throw new Error(`no before-image for ${c.type} of ${c.table} rowid ${c.rowid}`);
    const cols = columns(c.table).slice(0, c.before.length);
    const values = c.before.slice(0, cols.length);
    if (c.type === 'update') {
      out.push({
        sql: `UPDATE ${t} SET ${cols.map((n) => `${ident(n)} = ?`).join(', ')} WHERE rowid = ?`,
        params: [...values, c.rowid],
      });
    } else {
      out.push({
        sql: `INSERT INTO ${t} (rowid, ${cols.map(ident).join(', ')}) VALUES (?, ${cols.map(() => '?').join(', ')})`,
        params: [c.rowid, ...values],
      });
    }
  }
  return out;
}
