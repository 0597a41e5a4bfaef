// Brings the state schema up to date with the numbered migrations.
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import { migrations, migrationsTableSql } from '../warehouse/sql/migrations.js';
import { schemaRef } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { AUDSYNC_VERSION } from '../core/version.js';

export async function migrate(warehouse: Warehouse, d: SqlDialect, schema: string): Promise<number[]> {
  const catalog = warehouse.catalog;
  for (const statement of migrationsTableSql(d, schema, catalog)) await warehouse.execute(statement);
  const table = `${schemaRef(d, schema, catalog)}.audsync_migrations`;
  const applied = new Set((await warehouse.query<{ version: number }>(`SELECT version FROM ${table}`)).map((r) => Number(r.version)));
  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    const apply = async (wh: Warehouse) => {
      for (const statement of migration.statements(d, schema, catalog)) await wh.execute(statement);
      await wh.execute(
        `INSERT INTO ${table} (version, name, applied_at, audsync_version) VALUES (${migration.version}, ${literal(d, migration.name)}, ${d.timestamp(new Date().toISOString())}, ${literal(d, AUDSYNC_VERSION)})`,
      );
    };
    if (warehouse.capabilities.transactionalDdl) await warehouse.transaction(apply);
    else await apply(warehouse);
    done.push(migration.version);
  }
  return done;
}
