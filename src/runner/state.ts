// Brings the state schema up to date with the numbered migrations.
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import { migrations, migrationsTableSql } from '../warehouse/sql/migrations.js';
import { schemaRef } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { AUDSYNC_VERSION } from '../core/version.js';

/**
 * Where DDL is transactional, everything happens in one transaction behind the dialect's lock on the
 * schema's name: two runs starting at once on a new state schema (two syncs of one Airflow DAG)
 * would otherwise both create the same tables, and Postgres refuses the second CREATE TABLE IF NOT
 * EXISTS of a racing pair with a duplicate key in pg_type. The second run waits, then finds them.
 */
export async function migrate(warehouse: Warehouse, d: SqlDialect, schema: string): Promise<number[]> {
  const catalog = warehouse.catalog;
  const table = `${schemaRef(d, schema, catalog)}.audsync_migrations`;
  const migrateOn = async (wh: Warehouse) => {
    if (d.transactionLock) await wh.execute(d.transactionLock(`audsync migrations ${schema}`));
    for (const statement of migrationsTableSql(d, schema, catalog)) await wh.execute(statement);
    const applied = new Set((await wh.query<{ version: number }>(`SELECT version FROM ${table}`)).map((r) => Number(r.version)));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(d, schema, catalog)) await wh.execute(statement);
      await wh.execute(
        `INSERT INTO ${table} (version, name, applied_at, audsync_version) VALUES (${migration.version}, ${literal(d, migration.name)}, ${d.timestamp(new Date().toISOString())}, ${literal(d, AUDSYNC_VERSION)})`,
      );
      done.push(migration.version);
    }
    return done;
  };
  return warehouse.capabilities.transactionalDdl ? warehouse.transaction(migrateOn) : migrateOn(warehouse);
}
