// What a delivery relies on from a DuckDB stream: every row, or an error (never a silent short
// read), and a stream left early must not keep the file open in this process after close().
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-duckdb-stream-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = () => DuckDbWarehouse.open({ path: 'state.duckdb' }, { projectDir: dir });
// A late row that fails to cast: DuckDB's streaming fetch ends there as if the result were done.
const TABLE = `CREATE TABLE t AS SELECT range AS i, CASE WHEN range = 900000 THEN 'x' ELSE range::VARCHAR END AS v FROM range(1000000)`;

async function drain(rows: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const chunk of rows) n += chunk.length;
  return n;
}

it('streams every row of a result', async () => {
  const wh = await open();
  try {
    await wh.execute(TABLE);
    expect(await drain(wh.stream('SELECT i, v FROM t'))).toBe(1_000_000);
  } finally {
    await wh.close();
  }
});

it('a stream that fails part-way is an error naming how far it got, not a short success', async () => {
  const wh = await open();
  try {
    await wh.execute(TABLE);
    await expect(drain(wh.stream('SELECT i, v::INTEGER AS n FROM t'))).rejects.toThrow(/^duckdb: the result stream ended after \d+ of 1000000 rows/);
  } finally {
    await wh.close();
  }
});

it('a stream left early lets go of the file at close: nothing in this process can write it afterwards', async () => {
  const wh = await open();
  // Small, so that no garbage collection is likely to free the result by chance before the reopen.
  await wh.execute('CREATE TABLE t AS SELECT range AS i FROM range(5000)');
  for await (const chunk of wh.stream('SELECT i FROM t')) {
    expect(chunk.length).toBeGreaterThan(0);
    break; // a delivery that gives up part-way
  }
  await wh.close();
  // Linux shows a process's open files: an instance kept alive by an unfinished result still holds
  // the file, and would write it later, behind the back of the next run's instance.
  expect(await openFiles()).not.toContain(join(dir, 'state.duckdb'));
});

async function openFiles(): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  return (await Promise.all(fds.map((fd) => readlink(join('/proc/self/fd', fd)).catch(() => '')))).filter(Boolean);
}
