// Postgres through knex's pool and the pg driver. A run's temp tables live in one session, so the
// main connection is pinned for the whole run and carries statements, transactions and streams; a
// second pinned connection appends delivery outcomes while a stream is open on the first.
import knex, { type Knex } from 'knex';
import type pg from 'pg';
import type { Row, Warehouse, WarehouseCapabilities } from '../warehouse.js';
import type { PostgresConfig } from './config.js';
import { clientConfig, CONNECT_TIMEOUT_MS, connectError, describeTarget } from './connection.js';
import { sqlError } from './errors.js';
import { localeWarnings } from './locale.js';

export const postgresCapabilities: WarehouseCapabilities = {
  dialect: 'postgres',
  transactionalDdl: true,
  merge: true,
  maxIdentifierLength: 63,
  tempTables: true,
  rangeReads: true, // with an index on the parts table (dialect.rangeIndex)
};

/** Rows per FETCH: memory is bounded by this, whatever the size of the result. */
export const STREAM_CHUNK_ROWS = 5000;
// Postgres takes at most 65535 bind parameters per statement.
const MAX_PARAMS = 30_000;
const SAVEPOINT = 'audsync_statement';
const silent = { warn() {}, error() {}, debug() {}, deprecate() {} };

type Db = Knex;

export class PostgresWarehouse implements Warehouse {
  readonly capabilities = postgresCapabilities;
  readonly catalog = undefined;
  /** Things the user should know about this database (a non-UTF-8 ctype); the connection still works. */
  warnings: string[] = [];
  /** Who opened the transaction the main connection is in: transaction(), or a stream for its cursor. */
  private tx: 'none' | 'work' | 'stream' = 'none';
  /** Inside transaction(): a savepoint precedes the latest statement, so a failed one fails alone. */
  private savepoint = false;
  private cursors = 0;
  private writer: Promise<pg.Client> | undefined;

  private constructor(
    private readonly db: Db,
    private readonly main: pg.Client,
    private readonly config: PostgresConfig,
    private readonly target: string,
  ) {}

  static async open(config: PostgresConfig): Promise<PostgresWarehouse> {
    const settings = clientConfig(config);
    const target = describeTarget(settings);
    const db = knex({
      client: 'pg',
      // pg's own ClientConfig; knex's copy of its type differs only in how it spells a parser's format.
      connection: settings as Knex.PgConnectionConfig,
      pool: { min: 0, max: 2 },
      acquireConnectionTimeout: 2 * CONNECT_TIMEOUT_MS, // pg's own timeout answers first, with a reason
      // knex's own warnings would print driver errors to the console; ours carry them instead.
      log: silent,
      // Only the pool and the driver are used, never knex's SQL builder, so the server's version
      // string (another engine's, for Postgres-compatible ones) need not be read and parsed.
      version: '15',
    });
    let main: pg.Client;
    try {
      main = await PostgresWarehouse.acquire(db);
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw connectError(error, target, config);
    }
    const warehouse = new PostgresWarehouse(db, main, config, target);
    warehouse.warnings = await localeWarnings(main);
    return warehouse;
  }

  private static async acquire(db: Db): Promise<pg.Client> {
    const connection = (await db.client.acquireConnection()) as pg.Client;
    // Timestamps are UTC (contract.md), whatever the server's or the machine's zone.
    await connection.query(`SET TIME ZONE 'UTC'`);
    return connection;
  }

  async execute(sql: string, params?: unknown[]): Promise<void> {
    await this.statement(sql, params);
  }

  async query<T = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.statement(sql, params)).rows as T[];
  }

  async columns(sql: string): Promise<string[]> {
    // pg describes the columns even when no row comes back.
    const result = await this.statement(`SELECT * FROM (${sql}) AS q LIMIT 0`, undefined, sql);
    return result.fields.map((f) => f.name);
  }

  async *stream<T = Row>(sql: string, params?: unknown[]): AsyncIterable<T[]> {
    // A cursor lives in a transaction: the caller's, or one of its own, committed when it ends.
    const own = this.tx === 'none';
    const cursor = `audsync_cursor_${++this.cursors}`;
    if (own) {
      await this.run(this.main, 'BEGIN');
      this.tx = 'stream';
    }
    let done = false;
    try {
      await this.statement(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`, params, sql);
      for (;;) {
        const { rows } = await this.statement(`FETCH FORWARD ${STREAM_CHUNK_ROWS} FROM ${cursor}`, undefined, sql);
        if (rows.length > 0) yield rows as T[];
        if (rows.length < STREAM_CHUNK_ROWS) break;
      }
      await this.statement(`CLOSE ${cursor}`);
      if (own) await this.run(this.main, 'COMMIT');
      done = true;
    } finally {
      // An error, or a consumer that stopped early: COMMIT closes the cursor and keeps whatever
      // others wrote meanwhile (after an error it rolls back); a caller's transaction is theirs.
      if (!done) {
        if (own) await this.main.query('COMMIT').catch(() => undefined);
        else await this.statement(`CLOSE ${cursor}`).catch(() => undefined);
      }
      if (own) this.tx = 'none';
    }
  }

  async transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    // Nested work joins the open transaction: plan wraps everything, migrations included, in one
    // transaction it rolls back.
    if (this.tx !== 'none') return work(this);
    await this.run(this.main, 'BEGIN');
    this.tx = 'work';
    this.savepoint = false;
    try {
      const result = await work(this);
      await this.run(this.main, 'COMMIT');
      return result;
    } catch (error) {
      await this.main.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      this.tx = 'none';
      this.savepoint = false;
    }
  }

  async insertRows(table: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    this.writer ??= PostgresWarehouse.acquire(this.db);
    const writer = await this.writer.catch((error: unknown) => {
      this.writer = undefined;
      throw connectError(error, this.target, this.config);
    });
    const columns = Object.keys(rows[0]!);
    const chunkSize = Math.max(1, Math.min(1000, Math.floor(MAX_PARAMS / columns.length)));
    const names = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
    for (let i = 0; i < rows.length; i += chunkSize) {
      const chunk = rows.slice(i, i + chunkSize);
      const placeholders = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
      const values = chunk.flatMap((row) => columns.map((c) => row[c] ?? null));
      await this.run(writer, `INSERT INTO ${table} (${names}) VALUES ${placeholders}`, values);
    }
  }

  /** On the writer session (autocommit), so a lock heartbeat never waits for, or joins, the main one's transaction. */
  async executeAside(sql: string): Promise<void> {
    this.writer ??= PostgresWarehouse.acquire(this.db);
    const writer = await this.writer.catch((error: unknown) => {
      this.writer = undefined;
      throw connectError(error, this.target, this.config);
    });
    await this.run(writer, sql);
  }

  async close(): Promise<void> {
    const writer = await this.writer?.catch(() => undefined);
    for (const connection of [this.main, writer]) {
      if (connection) await this.db.client.releaseConnection(connection);
    }
    await this.db.destroy(); // ends both sessions: their temp tables go with them
  }

  /**
   * One statement (or several, without params) on the main connection. Inside transaction() each
   * goes behind a savepoint, sent in the same round trip, so a failed statement fails alone: plan
   * carries on with the next model, as it does on DuckDB, instead of every later statement
   * answering "current transaction is aborted".
   */
  private async statement(sql: string, params?: unknown[], reported = sql): Promise<pg.QueryResult> {
    if (this.tx !== 'work') return this.run(this.main, sql, params, reported);
    const mark = `${this.savepoint ? `RELEASE SAVEPOINT ${SAVEPOINT}; ` : ''}SAVEPOINT ${SAVEPOINT}`;
    try {
      if (params && params.length > 0) {
        await this.run(this.main, mark, undefined, reported);
        this.savepoint = true;
        return await this.run(this.main, sql, params, reported);
      }
      const result = await this.run(this.main, `${mark};\n${sql}`, undefined, reported);
      this.savepoint = true;
      return result;
    } catch (error) {
      // Back to just before the failed statement; the savepoint stays for the next one.
      this.savepoint = await this.main.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).then(
        () => true,
        () => false,
      );
      throw error;
    }
  }

  /** Runs SQL on one connection; the last statement's result; every error scrubbed. */
  private async run(connection: pg.Client, sql: string, params?: unknown[], reported = sql): Promise<pg.QueryResult> {
    try {
      const result = (await connection.query(sql, params)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? result[result.length - 1]! : result;
    } catch (error) {
      throw sqlError(error, reported, this.config);
    }
  }
}
