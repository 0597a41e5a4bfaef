import { z } from 'zod';
import type { WarehouseConfigSpec } from '../registry.js';

export const duckdbConfigSchema = z.strictObject({
  /** Database file, relative to the project dir, or ':memory:'. */
  path: z.string().min(1).default('audsync.duckdb'),
  /** DuckDB's own memory cap (e.g. '1GB'); DEFAULT_MEMORY_LIMIT when unset. */
  memory_limit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 1GB or 512MB').optional(),
  threads: z.number().int().positive().optional(),
  /** SQL run on every connection, inline or a .sql file relative to the project dir: attach databases, create views over CSV/Parquet. */
  init_sql: z.union([z.string(), z.array(z.string())]).optional(),
});

/**
 * memory_limit when the target sets none. DuckDB's own default (80% of RAM) lets one sync take a
 * shared worker's memory; 1GB runs a 10M-member audience, spilling to disk where it must (bench/:
 * peak RSS about 1.5 GB). Raise it for speed on a machine of its own.
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

export type DuckDbConfig = z.infer<typeof duckdbConfigSchema>;

export const configSpec: WarehouseConfigSpec = {
  type: 'duckdb',
  schema: duckdbConfigSchema,
  secretFields: [],
};
