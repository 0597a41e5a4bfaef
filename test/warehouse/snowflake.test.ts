// Snowflake without a server: config validation, the session setup, streaming in chunks, names
// folded back to lower case, transactions, array-bound inserts and error scrubbing, against a fake
// connection that records statements. The live tests at the end run only with credentials.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/core/errors.js';
import { connectionOptions, connectSnowflake, type ExecuteOptions, type SnowflakeConnection, type SnowflakeStatement } from '../../src/warehouse/snowflake/client.js';
import { snowflakeError } from '../../src/warehouse/snowflake/errors.js';
import { configSpec, snowflakeConfigSchema } from '../../src/warehouse/snowflake/config.js';
import { SnowflakeWarehouse, STREAM_CHUNK_ROWS } from '../../src/warehouse/snowflake/snowflake-warehouse.js';
import { toBind, toJs } from '../../src/warehouse/snowflake/values.js';
import { loadWarehouse, loadWarehouseConfigSpec } from '../../src/warehouse/registry.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

const base = { account: 'myorg-myaccount', username: 'AUDSYNC', database: 'ANALYTICS' };

describe('snowflake config', () => {
  it('takes a password, or a key pair (inline or a file, with an optional passphrase)', () => {
    expect(snowflakeConfigSchema.safeParse({ ...base, password: 'pw' }).success).toBe(true);
    expect(snowflakeConfigSchema.safeParse({ ...base, private_key: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----', private_key_passphrase: 'x' }).success).toBe(true);
    expect(snowflakeConfigSchema.safeParse({ ...base, private_key_path: 'keys/rsa_key.p8' }).success).toBe(true);
  });

  it('says what is missing or contradictory', () => {
    const messages = (c: object) => snowflakeConfigSchema.safeParse(c).error?.issues.map((i) => i.message) ?? [];
    expect(messages(base)[0]).toMatch(/set password:/);
    expect(messages({ ...base, password: 'pw', private_key_path: 'k.p8' })).toEqual(['use one of password:, private_key: and private_key_path:']);
    expect(messages({ ...base, password: 'pw', private_key_passphrase: 'x' })[0]).toMatch(/goes with private_key/);
    expect(messages({ account: 'a', username: 'u', password: 'pw' })).toHaveLength(1); // database is required
    expect(messages({ ...base, password: 'pw', warehous: 'X' }).length).toBeGreaterThan(0); // strict: a typo is an error
  });

  it('marks every secret, and never echoes a malformed key', () => {
    expect(configSpec.secretFields).toEqual(['password', 'private_key', 'private_key_passphrase']);
    const result = snowflakeConfigSchema.safeParse({ ...base, private_key: 'SECRETKEYMATERIAL' });
    expect(JSON.stringify(result.error?.issues)).not.toContain('SECRETKEYMATERIAL');
  });

  it('is registered, and loads lazily (the SDK only on connect)', async () => {
    expect((await loadWarehouseConfigSpec('snowflake'))?.type).toBe('snowflake');
    expect((await loadWarehouse('snowflake')).capabilities).toMatchObject({ dialect: 'snowflake', transactionalDdl: false, merge: true, maxIdentifierLength: 255, tempTables: true, rangeReads: false });
  });
});

describe('connection options', () => {
  it('password authentication, with warehouse, schema and role when set', async () => {
    const config = snowflakeConfigSchema.parse({ ...base, password: 'pw', warehouse: 'WH', schema: 'CRM', role: 'AUDSYNC' });
    expect(await connectionOptions(config, { projectDir: '/p' })).toEqual({
      account: 'myorg-myaccount', username: 'AUDSYNC', password: 'pw', warehouse: 'WH', database: 'ANALYTICS', schema: 'CRM', role: 'AUDSYNC',
      clientSessionKeepAlive: true, jsTreatIntegerAsBigInt: true,
    });
  });

  it('key pair: inline (line breaks written as \\n restored) or from a file beside the project', async () => {
    const inline = snowflakeConfigSchema.parse({ ...base, private_key: '-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----', private_key_passphrase: 'pp' });
    expect(await connectionOptions(inline, { projectDir: '/p' })).toMatchObject({
      authenticator: 'SNOWFLAKE_JWT', privateKey: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----', privateKeyPass: 'pp',
    });
    const dir = await mkdtemp(join(tmpdir(), 'audsync-sf-'));
    try {
      await writeFile(join(dir, 'rsa_key.p8'), '-----BEGIN PRIVATE KEY-----\nFILE\n-----END PRIVATE KEY-----\n');
      const fromFile = snowflakeConfigSchema.parse({ ...base, private_key_path: 'rsa_key.p8' });
      expect(await connectionOptions(fromFile, { projectDir: dir })).toMatchObject({ authenticator: 'SNOWFLAKE_JWT', privateKey: expect.stringContaining('FILE') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the real driver, pointed at a closed loopback port, fails promptly, without the password, and writes no log file', async () => {
    const config = snowflakeConfigSchema.parse({ ...base, password: 'hunter2-do-not-print' });
    const error = await connectSnowflake(config, { projectDir: process.cwd() }, { accessUrl: 'http://127.0.0.1:9', sfRetryMaxLoginRetries: 1, timeout: 5000 }).catch((e: unknown) => e);
    const wrapped = snowflakeError(error, '');
    expect(wrapped.message).toMatch(/^snowflake: .*ECONNREFUSED/);
    expect(`${wrapped.message} ${wrapped.hint ?? ''}`).not.toContain('hunter2');
    expect(existsSync(join(process.cwd(), 'snowflake.log'))).toBe(false);
  }, 30_000);
});

describe('values', () => {
  it('folds upper-case names (unquoted in SQL) back to lower case, keeps quoted mixed case', () => {
    expect(toJs({ ROW_COUNT: 3n, MEMBER_KEY: 'c1', p_email: true, 'Mixed Case': 1, N: 9007199254740993n })).toEqual({
      row_count: 3, member_key: 'c1', p_email: true, 'Mixed Case': 1, n: '9007199254740993',
    });
  });
  it('binds timestamps as UTC text for TIMESTAMP_NTZ, undefined as NULL', () => {
    expect(toBind(new Date('2026-03-01T10:00:00.123Z'))).toBe('2026-03-01 10:00:00.123');
    expect(toBind(undefined)).toBeNull();
    expect(toBind(5n)).toBe('5');
  });
});

interface Scripted {
  rows?: Record<string, unknown>[];
  columns?: string[];
  error?: Error & { sqlState?: string };
}

/** A Snowflake session that records statements and answers from a script. */
class FakeConnection implements SnowflakeConnection {
  sent: ExecuteOptions[] = [];
  destroyed = false;
  answer: (sql: string) => Scripted = () => ({});

  execute(options: ExecuteOptions): unknown {
    this.sent.push(options);
    const { rows = [], columns, error } = this.answer(options.sqlText);
    const statement: SnowflakeStatement = {
      getColumns: () => (columns ?? Object.keys(rows[0] ?? {})).map((name) => ({ getName: () => name })),
      async *streamRows() {
        yield* rows;
      },
    };
    queueMicrotask(() => options.complete(error, statement, options.streamResult ? undefined : rows));
    return statement;
  }

  destroy(callback: (error: Error | undefined) => void): void {
    this.destroyed = true;
    callback(undefined);
  }

  sql(): string[] {
    return this.sent.map((s) => s.sqlText);
  }
}

const open = (fake = new FakeConnection()) => ({ fake, wh: new SnowflakeWarehouse(fake, { database: 'ANALYTICS' }) });

describe('SnowflakeWarehouse (fake connection)', () => {
  it('qualifies state tables by the configured database', () => {
    expect(open().wh.catalog).toBe('ANALYTICS');
  });

  it('streams rows in chunks, with names as the runner wrote them', async () => {
    const fake = new FakeConnection();
    fake.answer = () => ({ rows: Array.from({ length: STREAM_CHUNK_ROWS + 2 }, (_, i) => ({ ROW_ID: BigInt(i + 1), EMAIL: `h${i}` })) });
    const { wh } = open(fake);
    const sizes: number[] = [];
    let first: unknown;
    for await (const chunk of wh.stream('SELECT row_id, email FROM parts')) {
      sizes.push(chunk.length);
      first ??= chunk[0];
    }
    expect(sizes).toEqual([STREAM_CHUNK_ROWS, 2]);
    expect(first).toEqual({ row_id: 1, email: 'h0' });
    expect(fake.sent[0]).toMatchObject({ streamResult: true });
  });

  it('describes a query without running it for its columns', async () => {
    const fake = new FakeConnection();
    fake.answer = () => ({ columns: ['CUSTOMER_ID', 'EMAIL', 'Quoted'] });
    const { wh } = open(fake);
    expect(await wh.columns('SELECT customer_id, email, "Quoted" FROM crm.customers')).toEqual(['customer_id', 'email', 'Quoted']);
    expect(fake.sent[0]).toMatchObject({ describeOnly: true });
  });

  it('commits a transaction, rolls it back when work throws, and joins an open one', async () => {
    const { fake, wh } = open();
    await wh.transaction(async (tx) => {
      await tx.execute('DELETE FROM s');
      await tx.transaction(async (inner) => inner.execute('INSERT INTO s VALUES (1)'));
    });
    await expect(wh.transaction(async () => {
      throw new Error('stop');
    })).rejects.toThrow('stop');
    expect(fake.sql()).toEqual(['BEGIN', 'DELETE FROM s', 'INSERT INTO s VALUES (1)', 'COMMIT', 'BEGIN', 'ROLLBACK']);
  });

  it('inserts rows with array binds, one statement per chunk', async () => {
    const { fake, wh } = open();
    const at = new Date('2026-03-01T10:00:00Z');
    await wh.insertRows('ANALYTICS.audsync.audsync_deliveries', [
      { run_id: 'r1', first_row_id: 1, error_code: null, finished_at: at },
      { run_id: 'r1', first_row_id: 2, error_code: 'rejected', finished_at: at },
    ]);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.sqlText).toBe('INSERT INTO ANALYTICS.audsync.audsync_deliveries (run_id, first_row_id, error_code, finished_at) VALUES (?, ?, ?, ?)');
    expect(fake.sent[0]!.binds).toEqual([
      ['r1', 1, null, '2026-03-01 10:00:00.000'],
      ['r1', 2, 'rejected', '2026-03-01 10:00:00.000'],
    ]);
  });

  it("turns driver errors into WarehouseErrors with Snowflake's words, minus row data", async () => {
    const fake = new FakeConnection();
    fake.answer = () => ({ error: Object.assign(new Error("Numeric value 'jane.doe@example.com' is not recognized"), { sqlState: '22018' }) });
    const { wh } = open(fake);
    const error = (await wh.query('SELECT TO_NUMBER(email) FROM crm.customers').catch((e: unknown) => e)) as WarehouseError;
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error.message).toBe("snowflake: Numeric value '…' is not recognized [SQLSTATE 22018]");
  });

  it('hints at the target settings for a missing warehouse', async () => {
    const fake = new FakeConnection();
    fake.answer = () => ({ error: new Error('No active warehouse selected in the current session.  Select an active warehouse with the \'use warehouse\' command.') });
    const error = (await open(fake).wh.execute('SELECT 1').catch((e: unknown) => e)) as WarehouseError;
    expect(error.hint).toMatch(/warehouse:/);
  });

  it('closes its session', async () => {
    const { fake, wh } = open();
    await wh.close();
    expect(fake.destroyed).toBe(true);
  });
});

// Live: only with an account and credentials. Never run in this repository's CI, which has
// neither; see src/warehouse/snowflake/README.md.
const env = process.env;
const LIVE = Boolean(env.AUDSYNC_TEST_SNOWFLAKE_ACCOUNT && env.AUDSYNC_TEST_SNOWFLAKE_USER && (env.AUDSYNC_TEST_SNOWFLAKE_PASSWORD || env.AUDSYNC_TEST_SNOWFLAKE_PRIVATE_KEY) && env.AUDSYNC_TEST_SNOWFLAKE_DATABASE);
const liveReason = LIVE
  ? ''
  : ' — SKIPPED: set AUDSYNC_TEST_SNOWFLAKE_ACCOUNT, _USER, _PASSWORD (or _PRIVATE_KEY), _DATABASE (and _WAREHOUSE, _ROLE) to run';
if (!LIVE) console.info(`snowflake live tests skipped${liveReason}`);

describe.skipIf(!LIVE)(`Snowflake live${liveReason}`, () => {
  const schema = `AUDSYNC_TEST_${Date.now()}`;
  let wh: Warehouse;
  beforeAll(async () => {
    const { definition } = await import('../../src/warehouse/snowflake/index.js');
    const config = snowflakeConfigSchema.parse({
      account: env.AUDSYNC_TEST_SNOWFLAKE_ACCOUNT,
      username: env.AUDSYNC_TEST_SNOWFLAKE_USER,
      ...(env.AUDSYNC_TEST_SNOWFLAKE_PASSWORD ? { password: env.AUDSYNC_TEST_SNOWFLAKE_PASSWORD } : { private_key: env.AUDSYNC_TEST_SNOWFLAKE_PRIVATE_KEY }),
      database: env.AUDSYNC_TEST_SNOWFLAKE_DATABASE,
      ...(env.AUDSYNC_TEST_SNOWFLAKE_WAREHOUSE ? { warehouse: env.AUDSYNC_TEST_SNOWFLAKE_WAREHOUSE } : {}),
      ...(env.AUDSYNC_TEST_SNOWFLAKE_ROLE ? { role: env.AUDSYNC_TEST_SNOWFLAKE_ROLE } : {}),
    });
    wh = await definition.connect(config, { projectDir: process.cwd() });
    await wh.execute(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await wh?.execute(`DROP SCHEMA IF EXISTS ${schema}`).catch(() => undefined);
    await wh?.close();
  });

  it('keeps temporary tables in its session and streams them, names folded back', async () => {
    await wh.execute('CREATE OR REPLACE TEMPORARY TABLE _audsync_live AS SELECT SEQ4() + 1 AS n FROM TABLE(GENERATOR(ROWCOUNT => 12000))');
    let rows = 0;
    let first: unknown;
    for await (const page of wh.stream('SELECT n FROM _audsync_live ORDER BY n')) {
      rows += page.length;
      first ??= page[0];
    }
    expect(rows).toBe(12000);
    expect(first).toEqual({ n: 1 });
  });

  it('commits and rolls back transactions, and reads timestamps back as UTC', async () => {
    const table = `${schema}.tx`;
    const at = new Date('2026-03-01T10:00:00.000Z');
    await wh.execute(`CREATE TABLE ${table} (id BIGINT, at TIMESTAMP_NTZ, note VARCHAR)`);
    await wh.transaction(async (tx) => tx.insertRows(table, [{ id: 1, at, note: null }]));
    await wh.transaction(async (tx) => {
      await tx.execute(`DELETE FROM ${table}`);
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(await wh.query(`SELECT id, at, note FROM ${table}`)).toEqual([{ id: 1, at, note: null }]);
  });
});
