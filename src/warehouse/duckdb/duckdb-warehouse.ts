// Embedded DuckDB. One instance per run; the main connection carries the run's temp tables,
// transactions and streams, a second connection appends delivery outcomes while a stream is open
// (a new statement on a connection would cancel its open stream), and a third extends locks.
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { LockedError, WarehouseError } from '../../core/errors.js';
import { scrubEngineMessage } from '../scrub.js';
import type { Row, Warehouse, WarehouseCapabilities, WarehouseContext } from '../warehouse.js';
import { DEFAULT_MEMORY_LIMIT, type DuckDbConfig } from './config.js';
import { MemoryRelease, parseSize } from './memory-release.js';
import { streamChecked } from './stream.js';
import { readRowObjects } from './rows.js';
import { toJs } from './values.js';
import { inTransaction, type TransactionState } from '../transaction.js';

export const duckdbCapabilities: WarehouseCapabilities = {
  dialect: 'duckdb',
  transactionalDdl: true,
  merge: false,
  maxIdentifierLength: 255,
  tempTables: true,
  rangeReads: true, // zone maps: the parts table is written in row_id order
};

export class DuckDbWarehouse implements Warehouse {
  readonly capabilities = duckdbCapabilities;
  private writer: DuckDBConnection | undefined;
  private aside: Promise<DuckDBConnection> | undefined;
  catalog: string | undefined;
  private readonly tx: TransactionState = { open: false };
  /** Gives freed memory back to the OS while the process holds clearly more than memory_limit. */
  memoryRelease: MemoryRelease | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly main: DuckDBConnection,
    private readonly initSql: string[],
  ) {}

  static async open(config: DuckDbConfig, context: WarehouseContext): Promise<DuckDbWarehouse> {
    const path = config.path === ':memory:' ? ':memory:' : resolve(context.projectDir, config.path);
    if (path !== ':memory:') {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        throw new WarehouseError('duckdb', `cannot open ${config.path}: its folder cannot be created (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`, {
          hint: 'path is relative to the project dir; point it at a folder audsync can create and write to',
        });
      }
    }
    const options: Record<string, string> = { memory_limit: config.memory_limit ?? DEFAULT_MEMORY_LIMIT };
    if (config.threads) options.threads = String(config.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, options);
    } catch (error) {
      const message = errorMessage(error);
      if (/lock/i.test(message)) {
        throw new LockedError(`the DuckDB file ${config.path} is in use by another process`, {
          hint: 'another audsync run (or a DuckDB client) has it open; wait for it to finish, or run with --wait',
        });
      }
      throw new WarehouseError('duckdb', `cannot open ${config.path}: ${message}`);
    }
    // Relative paths in models and init SQL (read_csv('data/x.csv')) resolve from the project dir.
    // Timestamps are UTC (contract.md), whatever the machine's zone: casts of source timestamps too.
    const setup = [`SET TimeZone = 'UTC'`, `SET file_search_path = '${context.projectDir.replace(/'/g, "''")}'`, ...loadInitSql(config, context)];
    const main = await instance.connect();
    const warehouse = new DuckDbWarehouse(instance, main, setup);
    const releasing = await instance.connect();
    const stated = await currentLimit(releasing);
    await warehouse.prepare(main);
    // init_sql may set a memory_limit of its own: then it is the user's to keep, not ours to restate.
    const bytes = parseSize(options.memory_limit!);
    if (bytes !== undefined && (await currentLimit(releasing)) === stated) {
      warehouse.memoryRelease = new MemoryRelease(releasing, { limit: options.memory_limit!, thresholdBytes: bytes + RELEASE_HEADROOM });
      warehouse.memoryRelease.start();
    } else {
      releasing.closeSync();
    }
    const [row] = await warehouse.query<{ name: string }>('SELECT current_database() AS name');
    warehouse.catalog = row?.name;
    return warehouse;
  }

  private async prepare(connection: DuckDBConnection): Promise<void> {
    for (const statement of this.initSql) await this.run(connection, statement);
  }

  async execute(sql: string, params?: unknown[]): Promise<void> {
    await this.run(this.main, sql, params);
  }

  async query<T = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    try {
      const result = await this.main.run(sql, params as DuckDBValue[] | undefined);
      return (await readRowObjects(result)).map((row) => toJs(row) as T);
    } catch (error) {
      throw wrap(error, sql);
    }
  }

  async columns(sql: string): Promise<string[]> {
    try {
      const reader = await this.main.runAndReadAll(`SELECT * FROM (${sql}) AS q LIMIT 0`);
      return reader.columnNames();
    } catch (error) {
      throw wrap(error, sql);
    }
  }

  async *stream<T = Row>(sql: string, params?: unknown[]): AsyncIterable<T[]> {
    try {
      for await (const rows of streamChecked(this.main, sql, params as DuckDBValue[] | undefined, toJs)) yield rows as T[];
    } catch (error) {
      throw wrap(error, sql);
    }
  }

  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    return inTransaction(this.tx, (sql) => this.execute(sql), { begin: 'BEGIN TRANSACTION', commit: 'COMMIT', rollback: 'ROLLBACK' }, () => work(this));
  }

  async insertRows(table: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    if (!this.writer) {
      this.writer = await this.instance.connect();
      await this.prepare(this.writer);
    }
    const columns = Object.keys(rows[0]!);
    const chunkSize = Math.max(1, Math.floor(2000 / columns.length));
    for (let i = 0; i < rows.length; i += chunkSize) {
      const chunk = rows.slice(i, i + chunkSize);
      const placeholders = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      const values = chunk.flatMap((row) => columns.map((c) => toDuckValue(row[c])));
      await this.run(this.writer, `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${placeholders}`, values);
    }
  }

  /** On a connection of its own, so it never waits behind (or joins) the writer's or main's work. */
  async executeAside(sql: string): Promise<void> {
    this.aside ??= this.instance.connect().then(async (connection) => {
      await this.prepare(connection);
      return connection;
    });
    await this.run(await this.aside, sql);
  }

  async close(): Promise<void> {
    await this.memoryRelease?.close();
    (await this.aside?.catch(() => undefined))?.closeSync();
    this.writer?.closeSync();
    this.main.closeSync();
    this.instance.closeSync();
  }

  private async run(connection: DuckDBConnection, sql: string, params?: unknown[]): Promise<void> {
    try {
      await connection.run(sql, params as DuckDBValue[] | undefined);
    } catch (error) {
      throw wrap(error, sql);
    }
  }
}

/**
 * RSS that the process may hold above memory_limit before freed memory is given back: Node.js
 * itself (about 150 MB) and the request bodies of a delivery in flight.
 */
const RELEASE_HEADROOM = 256 * 1024 * 1024;

async function currentLimit(connection: DuckDBConnection): Promise<string> {
  const reader = await connection.runAndReadAll(`SELECT current_setting('memory_limit') AS v`);
  return String(reader.getRows()[0]?.[0]);
}

function loadInitSql(config: DuckDbConfig, context: WarehouseContext): string[] {
  if (!config.init_sql) return [];
  if (Array.isArray(config.init_sql)) return config.init_sql;
  if (/\.sql$/i.test(config.init_sql.trim())) {
    const file = isAbsolute(config.init_sql) ? config.init_sql : resolve(context.projectDir, config.init_sql);
    try {
      return [readFileSync(file, 'utf8')];
    } catch {
      throw new WarehouseError('duckdb', `init_sql file ${config.init_sql} cannot be read`, {
        hint: 'init_sql is a path relative to the project dir, or inline SQL',
      });
    }
  }
  return [config.init_sql];
}

function toDuckValue(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  return value as DuckDBValue;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Every engine error becomes a WarehouseError whose message holds no data from the rows. */
function wrap(error: unknown, sql: string): Error {
  if (error instanceof WarehouseError || error instanceof LockedError) return error;
  return new WarehouseError('duckdb', scrubEngineMessage(errorMessage(error), sql));
}
