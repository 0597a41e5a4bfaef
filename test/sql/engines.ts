// The product's own warehouse for DuckDB (in memory) or a fresh Postgres database, with the state
// schema migrated: for SQL tests that run the same statements on both engines.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../src/runner/state.js';
import { sqlDialect, type SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { stateTables, type StateTables } from '../../src/warehouse/sql/names.js';
import { postgresConfigSchema } from '../../src/warehouse/postgres/config.js';
import { loadWarehouse } from '../../src/warehouse/registry.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createTestDatabase } from '../support/postgres.js';

export interface Engine {
  name: 'postgres' | 'duckdb';
  wh: Warehouse;
  d: SqlDialect;
  t: StateTables;
  close(): Promise<void>;
}

export async function openEngine(name: Engine['name']): Promise<Engine> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-sql-'));
  const d = sqlDialect(name);
  const pgDb = name === 'postgres' ? await createTestDatabase() : undefined;
  const config = pgDb ? postgresConfigSchema.parse({ connection: pgDb.url }) : { path: ':memory:' };
  const wh = await (await loadWarehouse(name)).connect(config, { projectDir: dir });
  await migrate(wh, d, 'audsync');
  return {
    name,
    wh,
    d,
    t: stateTables(d, 'audsync', wh.catalog),
    async close() {
      await wh.close();
      await pgDb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
