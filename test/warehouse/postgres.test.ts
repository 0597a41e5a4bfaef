// The Postgres warehouse itself, on the real server (AUDSYNC_TEST_PG_URL): one pinned session for
// temp tables, cursors and transactions, a second for outcome appends, values as JS primitives,
// errors that carry no row data and no credential, and the lc_ctype check.
import { createServer, type AddressInfo, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/core/errors.js';
import { loadWarehouse, loadWarehouseConfigSpec } from '../../src/warehouse/registry.js';
import { postgresConfigSchema, type PostgresConfig } from '../../src/warehouse/postgres/config.js';
import { PostgresWarehouse, STREAM_CHUNK_ROWS } from '../../src/warehouse/postgres/postgres-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { ENV, PROJECT_YML, loadIssues, removeProjects, writeProject } from '../config/project-fixture.js';
import { loadProject } from '../../src/config/index.js';

let db: TestDatabase;
const open: Warehouse[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const wh of open) await wh.close().catch(() => undefined);
  await db.drop();
});

const config = (over: Record<string, unknown> = {}): PostgresConfig => postgresConfigSchema.parse({ connection: db.url, ...over });

async function connect(over: Record<string, unknown> = {}): Promise<PostgresWarehouse> {
  const { definition } = await import('../../src/warehouse/postgres/index.js');
  const wh = (await definition.connect(config(over), { projectDir: '.' })) as PostgresWarehouse;
  open.push(wh);
  return wh;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<WarehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WarehouseError);
  return error as WarehouseError;
}

const everything = (e: Error & { hint?: string }) => `${e.message}\n${e.hint ?? ''}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${String(e.cause ?? '')}`;

describe('registry and capabilities', () => {
  it('is registered as postgres, lazily, with its capabilities as data', async () => {
    const definition = await loadWarehouse('postgres');
    expect(definition.type).toBe('postgres');
    expect(definition.capabilities).toEqual({ dialect: 'postgres', transactionalDdl: true, merge: true, maxIdentifierLength: 63, tempTables: true, rangeReads: true });
    const spec = await loadWarehouseConfigSpec('postgres');
    expect(spec?.secretFields).toEqual(['connection', 'password']);
    const wh = await connect();
    expect(wh.catalog).toBeUndefined();
  });
});

describe('config', () => {
  const issues = (input: unknown) => (postgresConfigSchema.safeParse(input).error?.issues ?? []).map((i) => [i.path.join('.'), i.message]);

  it('takes a URL, or host fields with port 5432 by default and application_name audsync', () => {
    expect(postgresConfigSchema.parse({ connection: 'postgresql://u@h/db' })).toEqual({ connection: 'postgresql://u@h/db', application_name: 'audsync' });
    expect(postgresConfigSchema.parse({ host: 'h', user: 'u', password: 'p', database: 'd', ssl: { reject_unauthorized: false } })).toMatchObject({
      host: 'h',
      port: 5432,
      ssl: { reject_unauthorized: false },
    });
  });

  it('in audsync.yml: secrets only through ${VAR}, never echoed; the resolved URL reaches the engine', async () => {
    const literal = PROJECT_YML.replace('{ type: duckdb, path: ":memory:" }', '{ type: postgres, connection: "postgres://u:Lit3ral-pw@db.internal/dw" }');
    const issues = await loadIssues(await writeProject({ 'audsync.yml': literal }));
    expect(issues).toEqual([
      expect.objectContaining({ path: 'targets.dev.warehouse.connection', message: expect.stringContaining('a literal secret in a file would be committed to git') }),
    ]);
    expect(JSON.stringify(issues)).not.toContain('Lit3ral-pw');

    const both = PROJECT_YML.replace('{ type: duckdb, path: ":memory:" }', '{ type: postgres, connection: "${DATABASE_URL}", host: db.internal }');
    expect(await loadIssues(await writeProject({ 'audsync.yml': both }), { env: { ...ENV, DATABASE_URL: db.url } })).toEqual([
      expect.objectContaining({ path: 'targets.dev.warehouse.host', message: 'use either connection: or host:, not both' }),
    ]);

    const good = PROJECT_YML.replace('{ type: duckdb, path: ":memory:" }', '{ type: postgres, connection: "${DATABASE_URL}", statement_timeout_ms: 60000 }');
    const manifest = await loadProject(await writeProject({ 'audsync.yml': good }), { env: { ...ENV, DATABASE_URL: db.url } });
    expect(manifest.project.target.warehouse).toEqual({ type: 'postgres', connection: db.url, statement_timeout_ms: 60000, application_name: 'audsync' });
    await removeProjects();
  });

  it('wants exactly one of connection and host, and no URL part beside a URL', () => {
    expect(issues({})).toEqual([['', expect.stringContaining('set connection:')]]);
    expect(issues({ connection: 'postgres://h/db', host: 'h' })).toEqual([['host', 'use either connection: or host:, not both']]);
    expect(issues({ connection: 'postgres://h/db', password: 'x' })).toEqual([['password', expect.stringContaining('put it in the URL')]]);
    expect(issues({ connection: 'mysql://h/db' })).toEqual([['connection', expect.stringContaining('postgres://')]]);
    expect(issues({ host: 'h', sslmode: 'require' })[0]?.[0]).toBe('');
  });
});

describe('one session for the run', () => {
  it('temp tables made by one call are seen by later queries, columns, streams and transactions', async () => {
    const wh = await connect();
    await wh.execute('DROP TABLE IF EXISTS pg_temp.scratch;\nCREATE TEMP TABLE scratch AS SELECT g AS id FROM generate_series(1, 3) g');
    expect(await wh.query('SELECT count(*) AS n FROM scratch')).toEqual([{ n: 3 }]);
    expect(await wh.columns('SELECT * FROM scratch')).toEqual(['id']);
    const streamed: unknown[] = [];
    for await (const chunk of wh.stream('SELECT id FROM scratch ORDER BY id')) streamed.push(...chunk);
    expect(streamed).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    await wh.transaction(async (tx) => tx.execute('INSERT INTO scratch VALUES (4)'));
    expect(await wh.query('SELECT max(id) AS m FROM scratch')).toEqual([{ m: 4 }]);
    // Another warehouse is another session: it does not see them.
    const other = await connect();
    await expect(other.query('SELECT * FROM scratch')).rejects.toThrow('relation "scratch" does not exist');
  });

  it('gives the column names of a query that returns no rows', async () => {
    const wh = await connect();
    expect(await wh.columns(`(\nSELECT 1 AS customer_id, 'x'::text AS email, TRUE AS "Ads Consent" WHERE FALSE\n)`)).toEqual([
      'customer_id',
      'email',
      'Ads Consent',
    ]);
  });

  it('sets application_name and the statement timeout on its sessions, and works in UTC', async () => {
    const wh = await connect({ application_name: 'audsync-test', statement_timeout_ms: 200 });
    expect(await wh.query(`SELECT current_setting('application_name') AS a, current_setting('TimeZone') AS z`)).toEqual([{ a: 'audsync-test', z: 'UTC' }]);
    const e = await failure(wh.execute('SELECT pg_sleep(2)'));
    expect(e.message).toMatch(/^postgres: canceling statement due to statement timeout/);
  });
});

describe('values come back as JS primitives', () => {
  it('BIGINT and NUMERIC as numbers when exact, strings otherwise; timestamps as Dates in UTC', async () => {
    const wh = await connect();
    const [row] = await wh.query(`SELECT count(*) AS n, sum(g) AS s, sum(g::bigint) AS big_sum, avg(g) AS mean, 9007199254740993::bigint AS huge,
      12345678901234567890.5::numeric AS wide, TRUE AS yes, 'a'::text AS t,
      TIMESTAMPTZ '2026-02-01 10:00:00+02' AS tz, TIMESTAMP '2026-02-01 10:00:00' AS naive FROM generate_series(1, 4) g`);
    expect(row).toEqual({
      n: 4,
      s: 10,
      big_sum: 10,
      mean: 2.5,
      huge: '9007199254740993',
      wide: '12345678901234567890.5',
      yes: true,
      t: 'a',
      tz: new Date('2026-02-01T08:00:00Z'),
      naive: new Date('2026-02-01T10:00:00Z'),
    });
  });

  it('leaves pg.types untouched for the rest of the process', async () => {
    await connect();
    expect(pg.types.getTypeParser(20)('42')).toBe('42');
  });
});

describe('stream', () => {
  it('reads 50,000 rows through a server-side cursor in bounded chunks while insertRows writes on the other connection', async () => {
    const wh = await connect();
    await wh.execute('CREATE TABLE outcomes (chunk integer NOT NULL, first_id bigint NOT NULL, rows integer NOT NULL, at timestamptz NOT NULL)');
    const sizes: number[] = [];
    let next = 1;
    let openTransactions = 0;
    for await (const chunk of wh.stream<{ id: number; h: string }>(
      `SELECT g AS id, md5(g::text) AS h FROM generate_series(1, $1::int) g ORDER BY g`,
      [50_000],
    )) {
      sizes.push(chunk.length);
      expect(chunk[0]!.id).toBe(next); // in order, nothing skipped
      next += chunk.length;
      // Appends on the second connection while the cursor is open on the first.
      await wh.insertRows('outcomes', [{ chunk: sizes.length, first_id: chunk[0]!.id, rows: chunk.length, at: new Date() }]);
      const seen = await db.query<{ n: number }>(`SELECT count(*) AS n FROM outcomes`);
      expect(seen).toEqual([{ n: sizes.length }]); // committed at once, visible to others
      if (sizes.length === 1) {
        // A server-side cursor on the main session (a query there joins the stream's transaction).
        expect(await wh.query(`SELECT name FROM pg_cursors`)).toEqual([{ name: expect.stringMatching(/^audsync_cursor_\d+$/) }]);
      }
      openTransactions = Math.max(openTransactions, (await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`,
      ))[0]!.n);
    }
    expect(next).toBe(50_001);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(STREAM_CHUNK_ROWS);
    expect(sizes.length).toBe(Math.ceil(50_000 / STREAM_CHUNK_ROWS));
    expect(openTransactions).toBe(1); // the cursor's transaction, held between fetches
    expect(await wh.query('SELECT sum(rows) AS n FROM outcomes')).toEqual([{ n: 50_000 }]);
    // The stream's transaction is over: nothing is left open on the main session.
    expect(await wh.query(`SELECT count(*) AS n FROM pg_cursors`)).toEqual([{ n: 0 }]);
    expect(await wh.query(`SELECT now() = statement_timestamp() AS fresh`)).toEqual([{ fresh: true }]);
  });

  it('a consumer that stops early leaves no cursor and no transaction open', async () => {
    const wh = await connect();
    for await (const chunk of wh.stream('SELECT g FROM generate_series(1, 20000) g')) {
      expect(chunk).toHaveLength(STREAM_CHUNK_ROWS);
      break;
    }
    expect(await wh.query(`SELECT count(*) AS n FROM pg_cursors`)).toEqual([{ n: 0 }]);
    expect(await wh.query(`SELECT now() = statement_timestamp() AS fresh`)).toEqual([{ fresh: true }]);
  });

  it('an empty result yields no chunk', async () => {
    const wh = await connect();
    const chunks: unknown[] = [];
    for await (const chunk of wh.stream('SELECT 1 AS x WHERE FALSE')) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });

  it("inside transaction() it uses the caller's transaction and leaves it open", async () => {
    const wh = await connect();
    await wh.execute('CREATE TABLE in_tx (v integer)');
    await wh
      .transaction(async (tx) => {
        await tx.execute('INSERT INTO in_tx VALUES (1), (2)');
        const seen: unknown[] = [];
        for await (const chunk of tx.stream('SELECT v FROM in_tx ORDER BY v')) seen.push(...chunk);
        expect(seen).toEqual([{ v: 1 }, { v: 2 }]);
        await tx.execute('INSERT INTO in_tx VALUES (3)');
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await wh.query('SELECT count(*) AS n FROM in_tx')).toEqual([{ n: 0 }]);
  });

  it('a failing query in a stream ends with a WarehouseError and leaves the session usable', async () => {
    const wh = await connect();
    const e = await failure(
      (async () => {
        for await (const _ of wh.stream('SELECT 1 / (g - 6000) FROM generate_series(1, 9000) g')) void _;
      })(),
    );
    expect(e.message).toContain('division by zero');
    expect(await wh.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    expect(await wh.query(`SELECT now() = statement_timestamp() AS fresh`)).toEqual([{ fresh: true }]);
  });
});

describe('transaction', () => {
  it('commits when the work resolves and rolls back when it throws, DDL included', async () => {
    const wh = await connect();
    await wh.transaction(async (tx) => {
      await tx.execute('CREATE SCHEMA kept; CREATE TABLE kept.t (v integer)');
      await tx.execute('INSERT INTO kept.t VALUES (1)');
    });
    await expect(
      wh.transaction(async (tx) => {
        await tx.execute('CREATE SCHEMA gone; CREATE TABLE gone.t (v integer)');
        await tx.execute('INSERT INTO kept.t VALUES (2)');
        throw new Error('plan rolls back');
      }),
    ).rejects.toThrow('plan rolls back');
    expect(await wh.query('SELECT v FROM kept.t')).toEqual([{ v: 1 }]);
    expect(await wh.query(`SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = 'gone'`)).toEqual([{ n: 0 }]);
  });

  it('called inside another, joins it: the outer one decides', async () => {
    const wh = await connect();
    await wh.execute('CREATE TABLE joined (v integer)');
    await expect(
      wh.transaction(async (outer) => {
        await outer.execute('INSERT INTO joined VALUES (1)');
        await outer.transaction(async (inner) => inner.execute('INSERT INTO joined VALUES (2)')); // does not commit
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await wh.query('SELECT count(*) AS n FROM joined')).toEqual([{ n: 0 }]);

    await wh.transaction(async (outer) => {
      await outer.transaction(async (inner) => inner.execute('INSERT INTO joined VALUES (3)'));
      await outer.execute('INSERT INTO joined VALUES (4)');
    });
    expect(await wh.query('SELECT v FROM joined ORDER BY v')).toEqual([{ v: 3 }, { v: 4 }]);
  });

  it('a failed statement inside fails alone: the transaction goes on (plan carries on with the next model)', async () => {
    const wh = await connect();
    await wh.execute('CREATE TABLE goes_on (v integer)');
    await wh.transaction(async (tx) => {
      await tx.execute('INSERT INTO goes_on VALUES (1)');
      await expect(tx.query('SELECT * FROM no_such_model_table')).rejects.toThrow('relation "no_such_model_table" does not exist');
      await expect(tx.execute('INSERT INTO goes_on VALUES ($1)', ['not a number'])).rejects.toThrow(WarehouseError);
      await tx.execute('INSERT INTO goes_on VALUES (2)');
      expect(await tx.query('SELECT count(*) AS n FROM goes_on')).toEqual([{ n: 2 }]);
    });
    expect(await wh.query('SELECT v FROM goes_on ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
  });
});

describe('errors carry no row data and no credential', () => {
  it('a failing INSERT does not quote the row', async () => {
    const wh = await connect();
    await wh.execute('CREATE TABLE strict_rows (member_key text NOT NULL, email text, attempts integer)');
    const notNull = await failure(wh.insertRows('strict_rows', [{ member_key: null, email: 'ana.private@example.com', attempts: 1 }]));
    expect(notNull.message).toContain('violates not-null constraint');
    expect(everything(notNull)).not.toContain('ana.private');

    const badType = await failure(wh.insertRows('strict_rows', [{ member_key: 'K1', email: 'x', attempts: 'bo.private@example.com' }]));
    expect(badType.message).toContain('invalid input syntax for type integer');
    expect(everything(badType)).not.toContain('bo.private');

    await wh.execute(`CREATE TABLE src (email text); INSERT INTO src VALUES ('cy.private@example.com')`);
    const fromTable = await failure(wh.execute('INSERT INTO strict_rows (member_key, attempts) SELECT email, email::integer FROM src'));
    expect(everything(fromTable)).not.toContain('cy.private');

    await wh.execute('CREATE UNIQUE INDEX strict_rows_key ON strict_rows (member_key)');
    await wh.insertRows('strict_rows', [{ member_key: 'dee.private@example.com', email: null, attempts: 1 }]);
    const duplicate = await failure(wh.insertRows('strict_rows', [{ member_key: 'dee.private@example.com', email: null, attempts: 2 }]));
    expect(duplicate.message).toContain('duplicate key value violates unique constraint "strict_rows_key"');
    expect(everything(duplicate)).not.toContain('dee.private');
  });

  it('a closed port says where and why, with a hint, and never the password', async () => {
    const port = await closedPort();
    const url = `postgres://postgres:S3cret-pw@127.0.0.1:${port}/somedb`;
    const e = await failure(PostgresWarehouse.open(postgresConfigSchema.parse({ connection: url })));
    expect(e.message).toBe(`postgres: cannot connect to 127.0.0.1:${port}/somedb as postgres: connection refused (ECONNREFUSED)`);
    expect(e.hint).toContain('is the server running');
    expect(everything(e)).not.toContain('S3cret-pw');
    expect(everything(e)).not.toContain(url);
  });

  it('a wrong password says authentication failed, for fields and for a URL, and never the password', async () => {
    const server = await passwordRejectingServer();
    try {
      const { port } = server.address() as AddressInfo;
      const fields = await failure(
        PostgresWarehouse.open(postgresConfigSchema.parse({ host: '127.0.0.1', port, user: 'audsync', password: 'Wr0ng-pw!', database: 'dw' })),
      );
      expect(fields.message).toBe(
        `postgres: cannot connect to 127.0.0.1:${port}/dw as audsync: authentication failed: password authentication failed for user "audsync"`,
      );
      expect(fields.hint).toContain('check the user and password');
      const url = await failure(PostgresWarehouse.open(postgresConfigSchema.parse({ connection: `postgres://audsync:Wr0ng-pw%21@127.0.0.1:${port}/dw` })));
      expect(url.message).toContain('authentication failed');
      expect(server.passwordsReceived).toEqual(['Wr0ng-pw!', 'Wr0ng-pw!']); // the client did send it
      for (const e of [fields, url]) expect(everything(e)).not.toMatch(/Wr0ng-pw/);
    } finally {
      server.close();
    }
  });

  it('an unknown database is named, with what to do', async () => {
    const e = await failure(PostgresWarehouse.open(config({ connection: db.url.replace(/\/[^/]+$/, '/audsync_no_such_db') })));
    expect(e.message).toMatch(/cannot connect to 127\.0\.0\.1:\d+\/audsync_no_such_db as \w+: database "audsync_no_such_db" does not exist/);
    expect(e.hint).toBe('create the database, or fix its name');
  });
});

describe('lc_ctype', () => {
  it('a UTF-8 database has nothing to warn about', async () => {
    expect((await connect()).warnings).toEqual([]);
  });

  it("a 'C' ctype database still works, but says lower() and [[:alpha:]] only know ASCII", async () => {
    const c = await createTestDatabase({ ctype: 'C' });
    try {
      const wh = await PostgresWarehouse.open(postgresConfigSchema.parse({ connection: c.url }));
      try {
        expect(wh.warnings).toEqual([expect.stringContaining(`lc_ctype is 'C': lower() and [[:alpha:]] handle ASCII letters only`)]);
        expect(await wh.query(`SELECT lower('JOSÉ') AS v`)).toEqual([{ v: 'josÉ' }]); // why it matters
      } finally {
        await wh.close();
      }
    } finally {
      await c.drop();
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Just enough of the Postgres protocol to refuse a password: asks for it in clear text, records it,
 * answers FATAL 28P01 as a real server does. (The test server trusts every login, so it cannot.)
 */
async function passwordRejectingServer(): Promise<Server & { passwordsReceived: string[] }> {
  const passwordsReceived: string[] = [];
  const server = createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let user: string | undefined; // set once the startup message is read
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      if (user === undefined && buffer.length >= 4 && buffer.length >= buffer.readInt32BE(0)) {
        const startup = buffer.subarray(0, buffer.readInt32BE(0));
        buffer = buffer.subarray(startup.length);
        // After length and protocol version: key\0value\0 pairs, 'user' first.
        user = startup.toString('utf8', 8).split('\0')[1] ?? '';
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(ask);
      }
      if (user !== undefined && buffer.length >= 5 && buffer[0] === 'p'.charCodeAt(0) && buffer.length >= 1 + buffer.readInt32BE(1)) {
        passwordsReceived.push(buffer.toString('utf8', 5, buffer.readInt32BE(1)).replace(/\0$/, ''));
        const fields = ['SFATAL', 'VFATAL', 'C28P01', `Mpassword authentication failed for user "${user}"`].map((f) => `${f}\0`).join('') + '\0';
        const body = Buffer.from(fields, 'utf8');
        const head = Buffer.alloc(5);
        head.write('E', 0);
        head.writeInt32BE(body.length + 4, 1);
        socket.end(Buffer.concat([head, body]));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return Object.assign(server, { passwordsReceived });
}
