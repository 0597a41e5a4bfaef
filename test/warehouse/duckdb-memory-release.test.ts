// Memory DuckDB freed goes back to the OS while the process is over memory_limit plus headroom
// (src/warehouse/duckdb/memory-release.ts): glibc would keep it, and a 10M first sync's RSS with it.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import { MemoryRelease, parseSize } from '../../src/warehouse/duckdb/memory-release.js';

const MB = 1024 * 1024;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-duckdb-release-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('gives the memory of a dropped table back to the OS', async () => {
  const wh = await DuckDbWarehouse.open({ path: ':memory:' }, { projectDir: dir });
  try {
    // About 300 MB of hashes, ranked (a sort's runs), then dropped: DuckDB frees it all, glibc keeps it.
    await wh.execute(`CREATE TEMP TABLE t AS SELECT range AS k, sha256(range::VARCHAR) AS a, sha256((range + 1)::VARCHAR) AS b FROM range(1500000)`);
    await wh.execute(`CREATE TEMP TABLE u AS SELECT k, a, dense_rank() OVER (ORDER BY a) AS r FROM t`);
    await wh.execute('DROP TABLE u');
    await wh.execute('DROP TABLE t');
    const held = process.memoryUsage.rss();
    await wh.memoryRelease!.release();
    const after = process.memoryUsage.rss();
    expect((held - after) / MB).toBeGreaterThan(150);
  } finally {
    await wh.close();
  }
});

it('releases only over the threshold, and asks less often when a release frees nothing', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let rss = 100 * MB;
  const limits: string[] = [];
  const spy = Object.create(connection, {
    run: { value: async (sql: string) => void limits.push(sql) },
  }) as DuckDBConnection;
  const release = new MemoryRelease(spy, { limit: '1GB', thresholdBytes: 1500 * MB, rss: () => rss });
  const tick = async () => {
    release.check();
    await release.stop(); // waits for a release the check started
  };
  try {
    await tick();
    expect(limits).toEqual([]); // under the threshold: nothing to do

    rss = 1600 * MB; // over it, and nothing comes back: each release that frees nothing doubles the wait
    const released: number[] = [];
    for (let i = 0; i < 16; i++) {
      await tick();
      released.push(release.stats.releases);
    }
    expect(limits[0]).toBe(`SET memory_limit = '1GB'`);
    expect(released).toEqual([1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});

it('keeps releasing every check while releases give memory back', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let rss = 1600 * MB;
  const spy = Object.create(connection, {
    run: { value: async () => void (rss -= 100 * MB) },
  }) as DuckDBConnection;
  const release = new MemoryRelease(spy, { limit: '1GB', thresholdBytes: 1200 * MB, rss: () => rss });
  try {
    for (let i = 0; i < 6; i++) {
      release.check();
      await release.stop();
    }
    expect(release.stats.releases).toBe(4); // 1600 -> 1200 MB, then under the threshold
    expect(release.stats.releasedBytes).toBe(400 * MB);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});

it('leaves a memory_limit that init_sql sets alone', async () => {
  const ours = await DuckDbWarehouse.open({ path: ':memory:', memory_limit: '2GB' }, { projectDir: dir });
  const theirs = await DuckDbWarehouse.open({ path: ':memory:', init_sql: `SET memory_limit = '3GB'` }, { projectDir: dir });
  try {
    expect(theirs.memoryRelease).toBeUndefined();
    // Stated again as configured, not as DuckDB prints it ('1.8 GiB' would lower the limit by 3%).
    expect(ours.memoryRelease!.options).toEqual({ limit: '2GB', thresholdBytes: 2e9 + 256 * MB });
    await ours.memoryRelease!.release();
    const [row] = await ours.query<{ v: string }>(`SELECT current_setting('memory_limit') AS v`);
    expect(row!.v).toBe('1.8 GiB');
  } finally {
    await ours.close();
    await theirs.close();
  }
});

it('reads sizes as DuckDB and the config write them', () => {
  expect(parseSize('1GB')).toBe(1e9);
  expect(parseSize('953.6 MiB')).toBeCloseTo(953.6 * MB);
  expect(parseSize('512 bytes')).toBe(512);
  expect(parseSize('2 TiB')).toBe(2 * 1024 ** 4);
  expect(parseSize('lots')).toBeUndefined();
});
