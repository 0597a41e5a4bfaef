// The extension point for warehouses. The runner talks only to this interface; SQL text comes
// from warehouse/sql/ for the dialect named in capabilities.
export type Dialect = 'duckdb' | 'postgres' | 'bigquery' | 'snowflake';

export interface WarehouseCapabilities {
  dialect: Dialect; // chooses the SQL builder, nothing else
  transactionalDdl: boolean; // CREATE/DROP inside a transaction (plan runs in one and rolls back)
  merge: boolean; // has MERGE (else DELETE + INSERT)
  maxIdentifierLength: number;
  tempTables: boolean; // session-scoped scratch tables
  /**
   * A query for a range of row ids reads about that range of a scratch table, not all of it (DuckDB's
   * zone maps; a Postgres index, dialect.rangeIndex). Delivery then has the warehouse write request
   * batches a few at a time (runner/encoded-batches.ts); engines that bill or scan per query whole
   * (BigQuery, Snowflake) stream rows instead.
   */
  rangeReads: boolean;
}

export type Row = Record<string, unknown>;

export interface Warehouse {
  readonly capabilities: WarehouseCapabilities;
  /**
   * Where the state schema lives when schemas are qualified by catalog (DuckDB: the database file's
   * catalog). State tables are then written catalog.schema.table, so a schema named like the
   * catalog (audsync.duckdb with state_schema audsync) is never ambiguous.
   */
  readonly catalog?: string;
  /** One statement, or several separated by ';' where the engine allows it. */
  execute(sql: string, params?: unknown[]): Promise<void>;
  /** Small results only: counts, audit reads. Values come back as JS primitives (bigint -> number). */
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The column names a query returns (it is run with no rows). */
  columns(sql: string): Promise<string[]>;
  /** Large results, chunk by chunk, memory bounded by the chunk size. */
  stream<T = Row>(sql: string, params?: unknown[]): AsyncIterable<T[]>;
  /** Commits when work resolves, rolls back when it throws; called inside another, joins it. */
  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T>;
  /** Small appends to persistent state tables, safe to call while a stream is open. */
  insertRows(table: string, rows: Row[]): Promise<void>;
  /**
   * Optional: one small statement on a connection other than the main one, committed at once and
   * safe while a stream or a transaction is open on the main connection; never part of that
   * transaction. The lock heartbeat uses it (runner/lock.ts). Engines without it keep longer locks.
   */
  executeAside?(sql: string): Promise<void>;
  /**
   * Optional: bytes the statement would scan, without running it (BigQuery's dry run), so `plan`
   * can show what a run would cost. Engines that bill otherwise leave it out.
   */
  estimateBytes?(sql: string): Promise<number>;
  close(): Promise<void>;
}

export interface WarehouseContext {
  projectDir: string;
}

export interface WarehouseDefinition<C = Record<string, unknown>> {
  type: string;
  capabilities: WarehouseCapabilities;
  connect(config: C, context: WarehouseContext): Promise<Warehouse>;
}
