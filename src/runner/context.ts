import type { Logger } from 'pino';
import type { Manifest } from '../core/manifest.js';
import type { RetryPolicy } from '../platforms/delivery/retry.js';
import type { SqlDialect } from '../warehouse/sql/dialect.js';
import type { StateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { LockTiming } from './lock.js';
import type { PlatformPool } from './platforms.js';

export interface RunOptions {
  command: 'run' | 'plan';
  select?: string;
  fullRefresh?: boolean;
  force?: boolean;
  logger: Logger;
  /** Overrides for tests and benchmarks; users tune limits in destination files. */
  retry?: Partial<RetryPolicy>;
  /** --wait: how long to wait for a lock (a sync's, or the DuckDB file's) another run holds; 0 or unset: skip at once. */
  waitMs?: number;
  /** Overrides of the lock's expiry and heartbeat, for tests (runner/lock.ts has the defaults). */
  lock?: Partial<LockTiming>;
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
  /**
   * Models whose candidate left members with unchanged source rows unnormalized, each with the
   * statement that rebuilds it normalizing every member: a sync that must send everyone (a new
   * audience, --full-refresh, a recovery) runs it first (sync.ts).
   */
  partialCandidates: Map<string, string>;
  /** Each sync's member counts (by its index), counted with its model's key checks (materialize.ts). */
  memberCounts: Map<number, Record<string, number>>;
}
