import type { Logger } from 'pino';
import type { Manifest } from '../core/manifest.js';
import type { RetryPolicy } from '../platforms/delivery/retry.js';
import type { SqlDialect } from '../warehouse/sql/dialect.js';
import type { StateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { PlatformPool } from './platforms.js';

export interface RunOptions {
  command: 'run' | 'plan';
  select?: string;
  fullRefresh?: boolean;
  force?: boolean;
  logger: Logger;
  /** Overrides for tests and benchmarks; users tune limits in destination files. */
  retry?: Partial<RetryPolicy>;
}

export interface RunContext {
  manifest: Manifest;
  options: RunOptions;
  invocationId: string;
  warehouse: Warehouse;
  dialect: SqlDialect;
  tables: StateTables;
  platforms: PlatformPool;
  logger: Logger;
}
