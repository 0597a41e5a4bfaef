// A fresh Postgres database per test (or suite), dropped afterwards, so runs never see each other's
// state. The server is required: every machine of ours runs one (CI starts one), and a missing
// server fails loudly instead of skipping the Postgres half of the conformance suite.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.AUDSYNC_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface TestDatabase {
  name: string;
  /** postgres:// URL of the fresh database. */
  url: string;
  /** Runs SQL on it (BIGINT and NUMERIC as numbers). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops it, WITH (FORCE): sessions still open on it are ended. */
  drop(): Promise<void>;
}

/** The test's own parsers, not the product's (src/warehouse/postgres/values.ts is under test). */
function testTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(20, Number);
  types.setTypeParser(1700, Number);
  return types;
}

function adminUrl(): URL {
  const url = new URL(PG_ADMIN_URL);
  if (!LOOPBACK.has(url.hostname)) throw new Error(`AUDSYNC_TEST_PG_URL must point at a loopback server (127.0.0.1), not ${url.hostname}`);
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl().toString() });
  try {
    await client.connect();
  } catch (error) {
    const url = adminUrl();
    throw new Error(
      `the Postgres tests need a server at ${url.hostname}:${url.port || 5432} (AUDSYNC_TEST_PG_URL, default ${'postgres://postgres@127.0.0.1:5432/postgres'}), ` +
        `and it cannot be reached: ${(error as Error).message}. Start one (see .ci/run) or set AUDSYNC_TEST_PG_URL.`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** CREATE DATABASE audsync_t_<random>; `ctype` makes one with another LC_CTYPE (from template0). */
export async function createTestDatabase(options: { ctype?: string } = {}): Promise<TestDatabase> {
  const name = `audsync_t_${randomBytes(6).toString('hex')}`;
  const locale = options.ctype ? ` TEMPLATE template0 LC_CTYPE '${options.ctype}' LC_COLLATE '${options.ctype}'` : '';
  await admin((c) => c.query(`CREATE DATABASE ${name}${locale}`));
  const url = adminUrl();
  url.pathname = `/${name}`;
  let client: pg.Client | undefined;
  const connected = async () => {
    if (!client) {
      client = new pg.Client({ connectionString: url.toString(), types: testTypes() });
      client.on('error', () => undefined); // the drop below ends it
      await client.connect();
    }
    return client;
  };
  return {
    name,
    url: url.toString(),
    async query<T>(sql: string, params?: unknown[]) {
      return (await (await connected()).query(sql, params)).rows as T[];
    },
    async drop() {
      await client?.end().catch(() => undefined);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
