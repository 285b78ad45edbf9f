/**
 * The change log's record decoding and the inverse statements of the compensating write (src/cdc.ts). The
 * compensating write itself runs against a real hub in appliance/test/federation-directory.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type CapturedChange, capturedChanges, decodeRecord, inverseStatements } from '../src/cdc.js';

function record(types: number[], body: number[]): Uint8Array {
  return Uint8Array.from([types.length + 1, ...types, ...body]);
}

describe('change log (turso_cdc)', () => {
  it('decodes every serial type of the SQLite record format', () => {
    const double = [...Buffer.from(new Float64Array([1.5]).buffer).reverse()];
    const rec = record(
      [0, 1, 2, 6, 21, 7, 14, 8, 9],
      [0xfe, 0x01, 0x00, ...[0, 0, 0, 1, 0, 0, 0, 0], 0x61, 0xc3, 0xa9, 0x62, ...double, 0x01],
    );
    expect(decodeRecord(rec)).toEqual([null, -2, 256, 4294967296, 'aéb', 1.5, Buffer.from([1]), 0, 1]);
  });

  it('keeps row changes only, and undoes them newest first', () => {
    const before = record([17, 1], [0x78, 0x79, 0x05]); // ['xy', 5]
    const rows = [
      { change_id: 1, change_type: 1, table_name: 'sqlite_schema', id: 3, before: null },
      { change_id: 2, change_type: 1, table_name: 't', id: 7, before: null },
      { change_id: 3, change_type: 0, table_name: 't', id: 8, before },
      { change_id: 4, change_type: -1, table_name: 'u "q"', id: 9, before },
      { change_id: 5, change_type: 2, table_name: null, id: null, before: null },
    ];
    const changes: CapturedChange[] = capturedChanges(rows);
    expect(changes.map((c) => [c.changeId, c.type, c.table])).toEqual([
      [2, 'insert', 't'],
      [3, 'update', 't'],
      [4, 'delete', 'u "q"'],
    ]);
    expect(inverseStatements(changes, () => ['name', 'n', 'added_later'])).toEqual([
      { sql: 'INSERT INTO "u ""q""" (rowid, "name", "n") VALUES (?, ?, ?)', params: [9, 'xy', 5] },
      { sql: 'UPDATE "t" SET "name" = ?, "n" = ? WHERE rowid = ?', params: ['xy', 5, 8] },
      { sql: 'DELETE FROM "t" WHERE rowid = ?', params: [7] },
    ]);
  });
});
