// The only file that names concrete warehouses; each is loaded on first use, so a DuckDB user
// never loads the Postgres, BigQuery or Snowflake drivers.
import type { z } from 'zod';
import type { WarehouseDefinition } from './warehouse.js';

export interface WarehouseConfigSpec {
  type: string;
  /** Validates the target's `warehouse:` mapping minus `type`. Strict: unknown keys are errors. */
  schema: z.ZodType;
  secretFields: string[];
}

interface Entry {
  config: () => Promise<{ configSpec: WarehouseConfigSpec }>;
  load: () => Promise<{ definition: WarehouseDefinition<any> }>;
}

const warehouses: Record<string, Entry> = {
  duckdb: {
    config: () => import('./duckdb/config.js'),
    load: () => import('./duckdb/index.js'),
  },
  postgres: {
    config: () => import('./postgres/config.js'),
    load: () => import('./postgres/index.js'),
  },
  bigquery: {
    config: () => import('./bigquery/config.js'),
    load: () => import('./bigquery/index.js'),
  },
  snowflake: {
    config: () => import('./snowflake/config.js'),
    load: () => import('./snowflake/index.js'),
  },
};

export function warehouseTypes(): string[] {
  return Object.keys(warehouses);
}

export async function loadWarehouseConfigSpec(type: string): Promise<WarehouseConfigSpec | undefined> {
  const entry = warehouses[type];
  return entry ? (await entry.config()).configSpec : undefined;
}

export async function loadWarehouse(type: string): Promise<WarehouseDefinition<any>> {
  const entry = warehouses[type];
  if (!entry) throw new Error(`unknown warehouse type '${type}'`);
  return (await entry.load()).definition;
}
