// BigQuery. Every statement is a query job in one BigQuery session opened on connect (session.ts):
// the run's temp tables (candidate, delta, parts, result) live in the session, and a transaction
// spans several jobs only inside one. Results are read page by page; reading the pages of a finished
// job is not a job, so delivery outcomes can be inserted while a stream is open.
import { WarehouseError } from '../../core/errors.js';
import { bigqueryDialect } from '../sql/dialects/bigquery.js';
import type { Row, Warehouse, WarehouseCapabilities, WarehouseContext } from '../warehouse.js';
import { createClient, type BigQueryClient } from './client.js';
import type { BigQueryConfig } from './config.js';
import { bigqueryError } from './errors.js';
import { pages } from './pages.js';
import { Session } from './session.js';
import { toJs } from './values.js';
import { inTransaction, type TransactionState } from '../transaction.js';

export const bigqueryCapabilities: WarehouseCapabilities = {
  dialect: 'bigquery',
  transactionalDdl: false, // a transaction takes DML and temp tables only
  merge: true,
  maxIdentifierLength: 1024,
  tempTables: true, // session temp tables
  rangeReads: false, // every query scans (and bills) the whole table
};

/** Rows per page: memory is bounded by this, whatever the size of the result. */
export const PAGE_ROWS = 10_000;
// BigQuery takes at most 10,000 query parameters.
const MAX_PARAMS = 9_000;
// Schema types as a dry run reports them, to the parameter types the client takes.
const PARAM_TYPE: Record<string, string> = { BOOLEAN: 'BOOL', INTEGER: 'INT64', FLOAT: 'FLOAT64', RECORD: 'STRUCT' };

export class BigQueryWarehouse implements Warehouse {
  readonly capabilities = bigqueryCapabilities;
  /** The project: state tables are written `project`.`dataset`.table. */
  readonly catalog: string;
  private readonly session: Session;
  private readonly tx: TransactionState = { open: false };
  private readonly paramTypes = new Map<string, Map<string, string>>();

  constructor(client: BigQueryClient, config: BigQueryConfig) {
    this.catalog = config.project;
    this.session = new Session(client, config);
  }

  static async open(config: BigQueryConfig, context: WarehouseContext, sdkOptions?: Record<string, unknown>): Promise<BigQueryWarehouse> {
    let client: BigQueryClient;
    try {
      client = await createClient(config, context, sdkOptions);
    } catch (error) {
      throw bigqueryError(error, '');
    }
    const warehouse = new BigQueryWarehouse(client, config);
    await warehouse.startSession();
    return warehouse;
  }

  /** Opens the session every later job runs in; also proves the credentials work. */
  startSession(): Promise<void> {
    return this.session.start();
  }

  async execute(sql: string, params?: unknown[]): Promise<void> {
    await this.session.run(sql, { params });
  }

  async query<T = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    const rows: T[] = [];
    for await (const page of this.stream<T>(sql, params)) rows.push(...page);
    return rows;
  }

  async columns(sql: string): Promise<string[]> {
    const metadata = await this.session.dryRun(`SELECT * FROM (\n${sql}\n) AS q`);
    return (metadata.statistics?.query?.schema?.fields ?? []).map((f) => f.name ?? '');
  }

  /** Bytes the statement would scan, from a dry run: free, and nothing runs. */
  async dryRunBytes(sql: string): Promise<number> {
    const metadata = await this.session.dryRun(sql);
    return Number(metadata.statistics?.totalBytesProcessed ?? 0);
  }

  /**
   * The Warehouse capability `plan` uses. A temp-table statement is estimated by its SELECT: that
   * is what scans, and the table it would create need not exist for the dry run.
   */
  estimateBytes(sql: string): Promise<number> {
    return this.dryRunBytes(sql.replace(/^CREATE OR REPLACE TEMP TABLE `[^`]+` AS\n/, ''));
  }

  async *stream<T = Row>(sql: string, params?: unknown[]): AsyncIterable<T[]> {
    const job = await this.session.run(sql, { params });
    const source = async (pageToken: string | undefined) => {
      const [rows, , response] = await job
        .getQueryResults({ maxResults: PAGE_ROWS, pageToken, autoPaginate: false, wrapIntegers: true })
        .catch((error: unknown) => {
          throw bigqueryError(error, sql);
        });
      return { rows: rows.map((r) => toJs(r) as T), complete: response?.jobComplete !== false, next: response?.pageToken ?? undefined };
    };
    yield* pages(source);
  }

  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    return inTransaction(this.tx, (sql) => this.execute(sql), { begin: 'BEGIN TRANSACTION', commit: 'COMMIT TRANSACTION', rollback: 'ROLLBACK TRANSACTION' }, () => work(this));
  }

  /** DML INSERT, not the streaming API: streamed rows cannot be updated or deleted for a while. */
  async insertRows(table: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const types = await this.columnTypes(table, columns);
    const chunkSize = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    const names = columns.map(bigqueryDialect.quoteIdent).join(', ');
    for (let i = 0; i < rows.length; i += chunkSize) {
      const chunk = rows.slice(i, i + chunkSize);
      const tuples = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      const params = chunk.flatMap((row) => columns.map((c) => toParam(row[c])));
      await this.session.run(`INSERT INTO ${table} (${names}) VALUES ${tuples}`, { params, types: chunk.flatMap(() => types) });
    }
  }

  close(): Promise<void> {
    return this.session.end();
  }

  /** Parameter types of a table's columns (NULLs need one), from a dry run of the table; cached. */
  private async columnTypes(table: string, columns: string[]): Promise<string[]> {
    let types = this.paramTypes.get(table);
    if (!types) {
      const metadata = await this.session.dryRun(`SELECT * FROM ${table}`);
      types = new Map((metadata.statistics?.query?.schema?.fields ?? []).map((f) => [(f.name ?? '').toLowerCase(), f.type ?? 'STRING']));
      this.paramTypes.set(table, types);
    }
    return columns.map((c) => {
      const type = types.get(c.toLowerCase());
      if (!type) throw new WarehouseError('bigquery', `${table} has no column ${c}`);
      return PARAM_TYPE[type] ?? type;
    });
  }
}

function toParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  return value;
}
