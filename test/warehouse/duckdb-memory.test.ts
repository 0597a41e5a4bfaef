// DuckDB's memory cap: 1GB unless the target sets one (DuckDB's own default is 80% of RAM).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-duckdb-memory-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function memoryLimit(config: { path: string; memory_limit?: string }): Promise<string> {
  const wh = await DuckDbWarehouse.open(config, { projectDir: dir });
  try {
    const [row] = await wh.query<{ v: string }>(`SELECT current_setting('memory_limit') AS v`);
    return row!.v;
  } finally {
    await wh.close();
  }
}

it('caps DuckDB at 1GB when the target sets no memory_limit', async () => {
  expect(await memoryLimit({ path: 'state.duckdb' })).toBe('953.6 MiB'); // 1GB = 10^9 bytes
});

it('takes the target\'s memory_limit when set', async () => {
  expect(await memoryLimit({ path: 'state.duckdb', memory_limit: '2GB' })).toBe('1.8 GiB');
});
