// DuckDbWarehouse.query reads rows itself (duckdb/rows.ts) so a blob is copied once, not twice: it
// must give what the binding's getRowObjectsJS gives, blobs of every size included, and each blob
// must be a Buffer of its own that outlives the result and the warehouse.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import { toJs } from '../../src/warehouse/duckdb/values.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-duckdb-rows-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Blobs inline in DuckDB's string_t (up to 12 bytes) and out of line, NULLs, and the other types a
// run reads back, over more than one chunk (2,048 rows).
const SQL = `SELECT i, i::VARCHAR AS s, i * 1.5 AS f, i % 2 = 0 AS b, TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS ts,
  CASE WHEN i % 5 = 0 THEN NULL ELSE encode(repeat('x', i % 40)) END AS blob, 9007199254740993::BIGINT AS big, NULL::INTEGER AS none
FROM range(5000) t(i) ORDER BY i`;

it('gives the rows getRowObjectsJS gives, blobs as Buffers', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const expected = (await connection.runAndReadAll(SQL)).getRowObjectsJS().map(toJs);
  connection.closeSync();
  instance.closeSync();

  const wh = await DuckDbWarehouse.open({ path: 'state.duckdb' }, { projectDir: dir });
  let rows: Record<string, unknown>[];
  try {
    rows = await wh.query(SQL);
  } finally {
    await wh.close();
  }
  expect(rows).toHaveLength(5000);
  expect(rows).toEqual(expected);
  for (const row of rows.slice(0, 60)) {
    const i = Number(row.i);
    if (i % 5 === 0) expect(row.blob).toBeNull();
    else expect(Buffer.isBuffer(row.blob) && (row.blob as Buffer).toString('latin1')).toBe('x'.repeat(i % 40));
  }
  // Each its own bytes: writing into one changes no other, and they stay readable after close.
  const [a, b] = [rows[39]!.blob as Buffer, rows[38]!.blob as Buffer];
  a.fill(0x79);
  expect(b.toString('latin1')).toBe('x'.repeat(38));
  expect(a.toString('latin1')).toBe('y'.repeat(39));
});
