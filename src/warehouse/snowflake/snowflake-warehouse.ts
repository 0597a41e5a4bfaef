// Snowflake through snowflake-sdk. One connection is one Snowflake session: the run's temporary
// tables, its transactions and its streams all live there. A session runs statements concurrently,
// and a streamed result is read from result chunks the statement already produced, so delivery
// outcomes can be inserted while a stream is open.
import { WarehouseError } from '../../core/errors.js';
import { snowflakeDialect } from '../sql/dialects/snowflake.js';
import type { Row, Warehouse, WarehouseCapabilities, WarehouseContext } from '../warehouse.js';
import { connectSnowflake, type SnowflakeConnection, type SnowflakeStatement } from './client.js';
import type { SnowflakeConfig } from './config.js';
import { snowflakeError } from './errors.js';
import { columnName, toBind, toJs } from './values.js';
import { inTransaction, type TransactionState } from '../transaction.js';

export const snowflakeCapabilities: WarehouseCapabilities = {
  dialect: 'snowflake',
  transactionalDdl: false, // DDL commits the open transaction
  merge: true,
  maxIdentifierLength: 255,
  tempTables: true, // session temporary tables
  rangeReads: false, // temp tables are not clustered: every range query scans them whole
};

/** Rows handed to the runner at a time; the SDK itself holds a few result chunks. */
export const STREAM_CHUNK_ROWS = 5000;
// Array binds above the SDK's threshold (100,000 values) go through a stage upload instead.
const MAX_BINDS = 50_000;
// Timestamps are UTC (contract.md); TIMESTAMP_NTZ values are read and written as UTC wall-clock time.
const SESSION_SETUP = `ALTER SESSION SET TIMEZONE = 'UTC', AUTOCOMMIT = TRUE, QUERY_TAG = 'audsync'`;

export class SnowflakeWarehouse implements Warehouse {
  readonly capabilities = snowflakeCapabilities;
  /** The configured database: state tables are written database.schema.table. */
  readonly catalog: string;
  private readonly tx: TransactionState = { open: false };

  constructor(
    private readonly connection: SnowflakeConnection,
    config: Pick<SnowflakeConfig, 'database'>,
  ) {
    this.catalog = config.database;
  }

  static async open(config: SnowflakeConfig, context: WarehouseContext): Promise<SnowflakeWarehouse> {
    let connection: SnowflakeConnection;
    try {
      connection = await connectSnowflake(config, context);
    } catch (error) {
      throw snowflakeError(error, '');
    }
    const warehouse = new SnowflakeWarehouse(connection, config);
    await warehouse.execute(SESSION_SETUP);
    return warehouse;
  }

  async execute(sql: string, params?: unknown[]): Promise<void> {
    await this.run(sql, params);
  }

  async query<T = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    const { rows } = await this.run(sql, params);
    return (rows ?? []).map((r) => toJs(r) as T);
  }

  async columns(sql: string): Promise<string[]> {
    const wrapped = `SELECT * FROM (\n${sql}\n) AS q LIMIT 0`;
    const described = await this.run(wrapped, undefined, { describeOnly: true });
    const columns = described.statement.getColumns() ?? (await this.run(wrapped)).statement.getColumns() ?? [];
    return columns.map((c) => columnName(c.getName()));
  }

  async *stream<T = Row>(sql: string, params?: unknown[]): AsyncIterable<T[]> {
    const { statement } = await this.run(sql, params, { streamResult: true });
    let chunk: T[] = [];
    try {
      for await (const row of statement.streamRows()) {
        chunk.push(toJs(row) as T);
        if (chunk.length >= STREAM_CHUNK_ROWS) {
          yield chunk;
          chunk = [];
        }
      }
    } catch (error) {
      throw snowflakeError(error, sql);
    }
    if (chunk.length > 0) yield chunk;
  }

  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    return inTransaction(this.tx, (sql) => this.execute(sql), { begin: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' }, () => work(this));
  }

  /** One INSERT per chunk with array binds: the SDK sends every row's values with the statement. */
  async insertRows(table: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const sql = `INSERT INTO ${table} (${columns.map(snowflakeDialect.quoteIdent).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const chunkSize = Math.max(1, Math.floor(MAX_BINDS / columns.length));
    for (let i = 0; i < rows.length; i += chunkSize) {
      const binds = rows.slice(i, i + chunkSize).map((row) => columns.map((c) => toBind(row[c])));
      await this.run(sql, binds);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.connection.destroy(() => resolve()));
  }

  private run(
    sql: string,
    binds?: unknown[],
    options: { streamResult?: boolean; describeOnly?: boolean } = {},
  ): Promise<{ statement: SnowflakeStatement; rows?: Row[] }> {
    return new Promise((resolve, reject) => {
      try {
        this.connection.execute({
          sqlText: sql,
          ...(binds && binds.length > 0 ? { binds: binds.map((b) => (Array.isArray(b) ? b : toBind(b))) } : {}),
          ...options,
          complete: (error, statement, rows) => (error ? reject(snowflakeError(error, sql)) : resolve({ statement, rows })),
        });
      } catch (error) {
        reject(error instanceof WarehouseError ? error : snowflakeError(error, sql));
      }
    });
  }
}
