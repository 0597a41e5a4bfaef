// BigQuery without a server: config validation, the job options every statement carries (session,
// location, byte cap), paging, transactions, inserts and error scrubbing, against a fake client
// that records jobs. The live tests at the end run only with credentials (see their describe).
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/core/errors.js';
import { BigQueryWarehouse, PAGE_ROWS } from '../../src/warehouse/bigquery/bigquery-warehouse.js';
import type { BigQueryClient, BigQueryJob, JobMetadata, ResultsResponse } from '../../src/warehouse/bigquery/client.js';
import { bigqueryConfigSchema, configSpec, type BigQueryConfig } from '../../src/warehouse/bigquery/config.js';
import { pages } from '../../src/warehouse/bigquery/pages.js';
import { toJs } from '../../src/warehouse/bigquery/values.js';
import { loadWarehouse, loadWarehouseConfigSpec } from '../../src/warehouse/registry.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { startBigQueryApi, staticAuth, type FakeApi } from './bigquery-api-fake.js';

const KEY = JSON.stringify({ type: 'service_account', client_email: 'audsync@acme.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n' });

describe('bigquery config', () => {
  it('needs a project; location defaults to US; credentials default to ADC', () => {
    expect(bigqueryConfigSchema.parse({ project: 'acme-dwh' })).toEqual({ project: 'acme-dwh', location: 'US' });
    expect(bigqueryConfigSchema.safeParse({}).success).toBe(false);
    expect(bigqueryConfigSchema.safeParse({ project: 'acme-dwh', password: 'x' }).success).toBe(false);
  });

  it('takes a key file or the key itself (a secret), not both', () => {
    expect(bigqueryConfigSchema.safeParse({ project: 'acme-dwh', key_file: 'sa.json' }).success).toBe(true);
    expect(bigqueryConfigSchema.safeParse({ project: 'acme-dwh', credentials_json: KEY }).success).toBe(true);
    const both = bigqueryConfigSchema.safeParse({ project: 'acme-dwh', key_file: 'sa.json', credentials_json: KEY });
    expect(both.error?.issues.map((i) => i.message)).toEqual(['use either key_file: or credentials_json:, not both']);
    expect(configSpec.secretFields).toEqual(['credentials_json']);
  });

  it('says what is wrong with a bad key without echoing it', () => {
    const secret = '{"private_key": "-----BEGIN PRIVATE KEY-----SECRET"}';
    const result = bigqueryConfigSchema.safeParse({ project: 'acme-dwh', credentials_json: secret });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('SECRET');
    expect(result.error?.issues[0]?.message).toMatch(/not a service-account key/);
  });

  it('is registered, and loads lazily', async () => {
    expect((await loadWarehouseConfigSpec('bigquery'))?.type).toBe('bigquery');
    expect((await loadWarehouse('bigquery')).capabilities).toMatchObject({ dialect: 'bigquery', transactionalDdl: false, merge: true, maxIdentifierLength: 1024, tempTables: true, rangeReads: false });
  });
});

describe('pages', () => {
  it('waits out unfinished answers, yields each non-empty page, follows tokens to the end', async () => {
    const answers = [
      { rows: [], complete: false },
      { rows: [1, 2], complete: true, next: 'p2' },
      { rows: [], complete: true, next: 'p3' },
      { rows: [3], complete: true },
    ];
    const tokens: (string | undefined)[] = [];
    const seen: number[][] = [];
    for await (const page of pages<number>(async (token) => (tokens.push(token), answers.shift()!))) seen.push(page);
    expect(seen).toEqual([[1, 2], [3]]);
    expect(tokens).toEqual([undefined, undefined, 'p2', 'p3']);
  });
});

describe('values', () => {
  it('turns the client\'s wrappers into plain values', () => {
    const [row] = BigQuery.mergeSchemaWithRows_(
      { fields: [{ name: 'n', type: 'INTEGER' }, { name: 'big', type: 'INTEGER' }, { name: 't', type: 'TIMESTAMP' }, { name: 'd', type: 'DATE' }, { name: 's', type: 'STRING' }] },
      [{ f: [{ v: '42' }, { v: '9223372036854775807' }, { v: '1772359200000000' }, { v: '2026-03-01' }, { v: null }] }],
      { wrapIntegers: true, parseJSON: false },
    );
    expect(toJs(row)).toEqual({ n: 42, big: '9223372036854775807', t: new Date('2026-03-01T10:00:00.000Z'), d: '2026-03-01', s: null });
  });
});

/** A BigQuery that records every job and answers from a script. */
class FakeBigQuery implements BigQueryClient {
  jobs: Record<string, unknown>[] = [];
  /** Rows (pages) for the next SELECT; dry runs answer `dryRun`. */
  pagesFor: (sql: string) => Record<string, unknown>[][] = () => [];
  dryRun: JobMetadata = {};
  fail: ((sql: string) => Error | undefined) | undefined;

  async createQueryJob(options: Record<string, unknown>): Promise<[BigQueryJob]> {
    this.jobs.push(options);
    const sql = String(options.query);
    const error = this.fail?.(sql);
    if (error) throw error;
    if (options.dryRun) return [{ metadata: this.dryRun, getMetadata: async () => [this.dryRun], getQueryResults: async () => [[]] }];
    const pageList = this.pagesFor(sql);
    const metadata: JobMetadata = options.createSession ? { statistics: { sessionInfo: { sessionId: 'session-1' } } } : {};
    let polled = false;
    const job: BigQueryJob = {
      getMetadata: async () => [metadata],
      getQueryResults: async (o): Promise<[Record<string, unknown>[], unknown, ResultsResponse]> => {
        if (!polled) {
          polled = true; // the first answer: still running
          return [[], null, { jobComplete: false }];
        }
        if (o.maxResults === 0) return [[], null, { jobComplete: true }];
        const index = o.pageToken ? Number(o.pageToken) : 0;
        const next = index + 1 < pageList.length ? String(index + 1) : undefined;
        return [pageList[index] ?? [], null, { jobComplete: true, ...(next ? { pageToken: next } : {}) }];
      },
    };
    return [job];
  }

  sql(): string[] {
    return this.jobs.map((j) => String(j.query));
  }
}

const config: BigQueryConfig = { project: 'acme-dwh', location: 'EU', dataset: 'crm', maximum_bytes_billed: 10_000_000_000 };

async function open(fake = new FakeBigQuery()): Promise<{ fake: FakeBigQuery; wh: BigQueryWarehouse }> {
  const wh = new BigQueryWarehouse(fake, config);
  await wh.startSession();
  return { fake, wh };
}

describe('BigQueryWarehouse (fake client)', () => {
  it('opens a session first, then runs every job in it, in the configured location, under the byte cap', async () => {
    const { fake, wh } = await open();
    await wh.execute('CREATE OR REPLACE TEMP TABLE `_t` AS SELECT 1 AS a');
    expect(fake.jobs[0]).toMatchObject({ query: 'SELECT 1', createSession: true, location: 'EU' });
    expect(fake.jobs[0]).not.toHaveProperty('connectionProperties');
    expect(fake.jobs[1]).toMatchObject({
      query: 'CREATE OR REPLACE TEMP TABLE `_t` AS SELECT 1 AS a',
      location: 'EU',
      useLegacySql: false,
      connectionProperties: [{ key: 'session_id', value: 'session-1' }],
      defaultDataset: { projectId: 'acme-dwh', datasetId: 'crm' },
      maximumBytesBilled: '10000000000',
    });
    expect(wh.catalog).toBe('acme-dwh');
  });

  it('streams a result page by page, PAGE_ROWS at a time, with plain values', async () => {
    const fake = new FakeBigQuery();
    fake.pagesFor = () => [[{ n: BigQuery.int('1') }, { n: BigQuery.int('2') }], [{ n: BigQuery.int('3') }]];
    const { wh } = await open(fake);
    const seen: unknown[][] = [];
    for await (const page of wh.stream('SELECT n FROM t')) seen.push(page);
    expect(seen).toEqual([[{ n: 1 }, { n: 2 }], [{ n: 3 }]]);
    expect(await wh.query('SELECT n FROM t')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(PAGE_ROWS).toBeLessThanOrEqual(10_000);
  });

  it('reads columns and bytes from a dry run, in the session (temp tables resolve)', async () => {
    const fake = new FakeBigQuery();
    fake.dryRun = { statistics: { totalBytesProcessed: '123456', query: { schema: { fields: [{ name: 'customer_id' }, { name: 'email' }] } } } };
    const { wh } = await open(fake);
    expect(await wh.columns('SELECT customer_id, email FROM crm.customers')).toEqual(['customer_id', 'email']);
    expect(await wh.dryRunBytes('SELECT * FROM `_audsync_delta_0`')).toBe(123456);
    expect(await (wh as Warehouse).estimateBytes!('CREATE OR REPLACE TEMP TABLE `_audsync_candidate_buyers` AS\nSELECT 1')).toBe(123456);
    expect(fake.jobs.at(-1)!.query, 'a temp table is estimated by its SELECT').toBe('SELECT 1');
    expect(fake.jobs.slice(1).every((j) => j.dryRun === true && (j.connectionProperties as unknown[]).length === 1)).toBe(true);
  });

  it('commits a transaction, rolls it back when work throws, and joins an open one', async () => {
    const { fake, wh } = await open();
    await wh.transaction(async (tx) => {
      await tx.execute('DELETE FROM s WHERE TRUE');
      await tx.transaction(async (inner) => inner.execute('INSERT INTO s VALUES (1)'));
    });
    await expect(wh.transaction(async (tx) => {
      await tx.execute('DELETE FROM s WHERE TRUE');
      throw new Error('delivery stopped');
    })).rejects.toThrow('delivery stopped');
    expect(fake.sql().slice(1)).toEqual([
      'BEGIN TRANSACTION', 'DELETE FROM s WHERE TRUE', 'INSERT INTO s VALUES (1)', 'COMMIT TRANSACTION',
      'BEGIN TRANSACTION', 'DELETE FROM s WHERE TRUE', 'ROLLBACK TRANSACTION',
    ]);
  });

  it('inserts rows with DML and typed parameters (NULLs need a type), types read from the table', async () => {
    const fake = new FakeBigQuery();
    fake.dryRun = { statistics: { query: { schema: { fields: [{ name: 'run_id', type: 'STRING' }, { name: 'first_row_id', type: 'INTEGER' }, { name: 'error_code', type: 'STRING' }, { name: 'finished_at', type: 'TIMESTAMP' }] } } } };
    const { wh } = await open(fake);
    const at = new Date('2026-03-01T10:00:00Z');
    await wh.insertRows('`acme-dwh`.`audsync`.audsync_deliveries', [
      { run_id: 'r1', first_row_id: 1, error_code: null, finished_at: at },
      { run_id: 'r1', first_row_id: 2, error_code: 'rejected', finished_at: at },
    ]);
    const insert = fake.jobs.at(-1)!;
    expect(insert.query).toBe('INSERT INTO `acme-dwh`.`audsync`.audsync_deliveries (`run_id`, `first_row_id`, `error_code`, `finished_at`) VALUES (?, ?, ?, ?), (?, ?, ?, ?)');
    expect(insert.params).toEqual(['r1', 1, null, at, 'r1', 2, 'rejected', at]);
    expect(insert.types).toEqual(['STRING', 'INT64', 'STRING', 'TIMESTAMP', 'STRING', 'INT64', 'STRING', 'TIMESTAMP']);
    await wh.insertRows('`acme-dwh`.`audsync`.audsync_deliveries', [{ run_id: 'r2', first_row_id: 3, error_code: null, finished_at: at }]);
    expect(fake.jobs.filter((j) => j.dryRun).length, 'the table is described once').toBe(1);
  });

  it('turns driver errors into WarehouseErrors with BigQuery\'s words, minus row data', async () => {
    const fake = new FakeBigQuery();
    fake.fail = (sql) => (sql.startsWith('SELECT email') ? new Error("Invalid email value 'jane.doe@example.com' in row 12; phone '+1 415 555 0134'") : undefined);
    const { wh } = await open(fake);
    const error = await wh.query('SELECT email FROM crm.customers').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect((error as Error).message).toMatch(/^bigquery: Invalid email value/);
    expect((error as Error).message).not.toMatch(/jane|415/);
  });

  it('points at credentials when none are found', async () => {
    const fake = new FakeBigQuery();
    fake.fail = () => new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started');
    const error = (await open(fake).catch((e: unknown) => e)) as WarehouseError;
    expect(error.hint).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it('ends its session on close', async () => {
    const { fake, wh } = await open();
    await wh.close();
    expect(fake.sql().at(-1)).toBe('CALL BQ.ABORT_SESSION()');
  });
});

describe('BigQueryWarehouse through the real client, against a loopback fake of the REST API', () => {
  let api: FakeApi;
  let wh: BigQueryWarehouse;
  beforeAll(async () => {
    api = await startBigQueryApi();
    api.results = (sql) => {
      if (sql.startsWith('SELECT n')) return { fields: [{ name: 'n', type: 'INTEGER' }, { name: 'at', type: 'TIMESTAMP' }], rows: [1, 2, 3, 4, 5].map((n) => [String(n), '1772359200000000']) };
      if (sql.startsWith('SELECT * FROM `acme-dwh`.`audsync`.audsync_deliveries')) {
        return { fields: [{ name: 'run_id', type: 'STRING' }, { name: 'first_row_id', type: 'INTEGER' }, { name: 'error_code', type: 'STRING' }, { name: 'finished_at', type: 'TIMESTAMP' }], rows: [] };
      }
      return undefined;
    };
    api.failure = (sql) => (sql.includes('bad_column') ? "Unrecognized name: bad_column; value 'jane.doe@example.com' at [1:8]" : undefined);
    wh = await BigQueryWarehouse.open(config, { projectDir: process.cwd() }, { apiEndpoint: api.url, authClient: staticAuth });
  });
  afterAll(async () => {
    await wh?.close();
    await api?.close();
  });

  it('opens the session with its first job and sends its id, the location and the byte cap with every later one', async () => {
    await wh.execute('CREATE OR REPLACE TEMP TABLE `_t` AS SELECT 1 AS a');
    expect(api.jobs[0]).toMatchObject({ query: 'SELECT 1', createSession: true, location: 'EU', useLegacySql: false });
    expect(api.jobs.at(-1)).toMatchObject({
      query: 'CREATE OR REPLACE TEMP TABLE `_t` AS SELECT 1 AS a',
      location: 'EU',
      connectionProperties: [{ key: 'session_id', value: 'session-42' }],
      maximumBytesBilled: '10000000000',
      defaultDataset: { projectId: 'acme-dwh', datasetId: 'crm' },
      labels: { tool: 'audsync' },
    });
  });

  it('waits for a job, then reads its result page by page with page tokens', async () => {
    api.reads.length = 0;
    const pagesSeen: unknown[][] = [];
    for await (const page of wh.stream('SELECT n, at FROM numbers')) pagesSeen.push(page);
    const at = new Date('2026-03-01T10:00:00.000Z');
    expect(pagesSeen).toEqual([[{ n: 1, at }, { n: 2, at }], [{ n: 3, at }, { n: 4, at }], [{ n: 5, at }]]);
    expect(api.reads.map((r) => [r.maxResults, r.pageToken])).toEqual([
      ['0', null], // still running
      ['0', null], // done
      [String(PAGE_ROWS), null],
      [String(PAGE_ROWS), '2'],
      [String(PAGE_ROWS), '4'],
    ]);
  });

  it('sends inserted rows as typed positional parameters, NULLs included', async () => {
    await wh.insertRows('`acme-dwh`.`audsync`.audsync_deliveries', [{ run_id: 'r1', first_row_id: 7, error_code: null, finished_at: new Date('2026-03-01T10:00:00Z') }]);
    const insert = api.jobs.at(-1)!;
    expect(insert.parameterMode).toBe('positional');
    expect(insert.queryParameters.map((p: { parameterType: { type: string } }) => p.parameterType.type)).toEqual(['STRING', 'INT64', 'STRING', 'TIMESTAMP']);
    expect(insert.queryParameters[0].parameterValue).toEqual({ value: 'r1' });
    expect(insert.queryParameters[2].parameterValue.value ?? null).toBeNull();
  });

  it("reports a failed job as a WarehouseError in BigQuery's words, minus row data", async () => {
    const error = (await wh.query('SELECT bad_column FROM t').catch((e: unknown) => e)) as WarehouseError;
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error.message).toBe("bigquery: Unrecognized name: bad_column; value '…' at [1:8]");
  });

  it('dry-runs for bytes in the session', async () => {
    expect(await wh.dryRunBytes('SELECT * FROM `_audsync_delta_0`')).toBe(2048);
    expect(api.jobs.at(-1)).toMatchObject({ dryRun: true, connectionProperties: [{ key: 'session_id', value: 'session-42' }] });
  });
});

// Live: only with a project and credentials (ADC or GOOGLE_APPLICATION_CREDENTIALS). Never run
// in this repository's CI, which has neither; see src/warehouse/bigquery/README.md.
const LIVE_PROJECT = process.env.AUDSYNC_TEST_BIGQUERY_PROJECT;
const liveReason = LIVE_PROJECT ? '' : ' — SKIPPED: set AUDSYNC_TEST_BIGQUERY_PROJECT (and ADC or GOOGLE_APPLICATION_CREDENTIALS) to run';
if (!LIVE_PROJECT) console.info(`bigquery live tests skipped${liveReason}`);

describe.skipIf(!LIVE_PROJECT)(`BigQuery live${liveReason}`, () => {
  const dataset = `audsync_test_${Date.now()}`;
  let wh: Warehouse;
  beforeAll(async () => {
    const { definition } = await import('../../src/warehouse/bigquery/index.js');
    const parsed = bigqueryConfigSchema.parse({ project: LIVE_PROJECT, location: process.env.AUDSYNC_TEST_BIGQUERY_LOCATION ?? 'US' });
    wh = await definition.connect(parsed, { projectDir: process.cwd() });
    await wh.execute(`CREATE SCHEMA \`${LIVE_PROJECT}\`.\`${dataset}\``);
  });
  afterAll(async () => {
    await wh?.execute(`DROP SCHEMA IF EXISTS \`${LIVE_PROJECT}\`.\`${dataset}\` CASCADE`).catch(() => undefined);
    await wh?.close();
  });

  it('keeps temp tables across jobs in its session, and streams them', async () => {
    await wh.execute('CREATE OR REPLACE TEMP TABLE `_audsync_live` AS SELECT n FROM UNNEST(GENERATE_ARRAY(1, 25000)) AS n');
    let rows = 0;
    for await (const page of wh.stream<{ n: number }>('SELECT n FROM `_audsync_live` ORDER BY n')) rows += page.length;
    expect(rows).toBe(25000);
  });

  it('commits and rolls back multi-statement transactions across jobs', async () => {
    const table = `\`${LIVE_PROJECT}\`.\`${dataset}\`.tx`;
    await wh.execute(`CREATE TABLE ${table} (id INT64, at TIMESTAMP, note STRING)`);
    await wh.transaction(async (tx) => tx.insertRows(table, [{ id: 1, at: new Date(), note: null }]));
    await wh.transaction(async (tx) => {
      await tx.execute(`DELETE FROM ${table} WHERE TRUE`);
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(await wh.query(`SELECT id, note FROM ${table}`)).toEqual([{ id: 1, note: null }]);
  });

  it('estimates bytes with a dry run', async () => {
    expect(await wh.estimateBytes!('SELECT * FROM `bigquery-public-data.samples.shakespeare`')).toBeGreaterThan(0);
  });
});
