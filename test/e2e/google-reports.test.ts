// Google's Data Manager applies uploads asynchronously: a run records its request as PROCESSING, and
// the outcome is written back when a later run or `audsync status --refresh` asks again.
import { queryDuckDbFile } from '../support/duckdb.js';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { runInvocation } from '../../src/runner/invocation.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import { sha256 } from '../support/project.js';

const BIN = resolve(import.meta.dirname, '../../bin/audsync.js');
const LIST = '7777777777';
let dir: string;
let sandbox: Sandbox;
const env = { ...process.env, GOOGLE_TEST_TOKEN: SANDBOX_TOKEN };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-google-'));
  sandbox = await startSandbox({ google: { processingMs: 60_000 } }); // stays PROCESSING until completeAll()
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await writeFile(join(dir, 'audsync.yml'), 'name: g\ntarget: t\ntargets:\n  t:\n    warehouse: { type: duckdb, path: state.duckdb }\n');
  await writeFile(
    join(dir, 'models', 'm.yml'),
    `name: m
sql: "SELECT * FROM (VALUES ('1', 'Cloudy.San.Francisco+ads@GMAIL.com'), ('2', 'b@example.com')) AS t(id, email)"
key: id
identifiers: { email: email }
syncs: [{ destination: google, audience: { id: "${LIST}" } }]
`,
  );
  await writeFile(
    join(dir, 'destinations', 'google.yml'),
    `name: google\ntype: google_customer_match\ncustomer_id: "1234567890"\naccess_token: \${GOOGLE_TEST_TOKEN}\napi_base_url: ${sandbox.urlFor('google')}\n`,
  );
});
afterEach(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const reports = () => queryDuckDbFile(join(dir, 'state.duckdb'), 'SELECT kind, status FROM audsync.audsync_platform_reports ORDER BY recorded_at');

it('records the request as PROCESSING, and status --refresh writes back the outcome', async () => {
  const result = await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger });
  expect(result.syncs[0]).toMatchObject({ status: 'success', added: 2 });
  // Google's rule: gmail dots and +tag removed before hashing.
  expect(sandbox.google.members(LIST, 'email')).toEqual([sha256('b@example.com'), sha256('cloudysanfrancisco@gmail.com')].sort());
  expect(await reports()).toEqual([{ kind: expect.stringMatching(/^google/), status: 'PROCESSING' }]);

  sandbox.google.completeAll();
  const status = await new Promise<{ code: number; stdout: string }>((done) =>
    execFile(process.execPath, [BIN, 'status', '--refresh', '--json', '--project-dir', dir], { env }, (error, stdout) =>
      done({ code: error ? Number(error.code) : 0, stdout }),
    ),
  );
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout).syncs[0].last_report).toMatchObject({ status: 'SUCCESS' });
  expect((await reports()).map((r) => r.status)).toEqual(['PROCESSING', 'SUCCESS']);
});

it('a later run asks again about requests still PROCESSING', async () => {
  await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger });
  sandbox.google.completeAll();
  await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger });
  expect((await reports()).map((r) => r.status)).toEqual(['PROCESSING', 'SUCCESS']);
});

it('sends each member with its own consent signals, and a consent change re-sends it', async () => {
  await writeFile(
    join(dir, 'models', 'm.yml'),
    `name: m
sql: |
  SELECT * FROM (VALUES
    ('1', 'a@example.com', TRUE, 'granted'),
    ('2', 'b@example.com', FALSE, NULL),
    ('3', 'c@example.com', NULL, 'DENIED')
  ) AS t(id, email, data_ok, personalization)
key: id
identifiers: { email: email }
consent_signals: { ad_user_data: data_ok, ad_personalization: personalization }
syncs: [{ destination: google, audience: { id: "${LIST}" } }]
`,
  );
  const first = await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger });
  expect(first.syncs[0]).toMatchObject({ status: 'success', added: 3 });
  const consent = (email: string) => sandbox.google.consentOf(LIST, 'email', sha256(email));
  expect(consent('a@example.com')).toEqual({ adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_GRANTED' });
  expect(consent('b@example.com')).toEqual({ adUserData: 'CONSENT_DENIED' });
  expect(consent('c@example.com')).toEqual({ adPersonalization: 'CONSENT_DENIED' });

  // Member 2 grants ad_user_data: its fingerprint changes, so it is sent again with the new signal.
  const model = (await import('node:fs/promises')).readFile(join(dir, 'models', 'm.yml'), 'utf8');
  await writeFile(join(dir, 'models', 'm.yml'), (await model).replace("('2', 'b@example.com', FALSE, NULL)", "('2', 'b@example.com', TRUE, NULL)"));
  const second = await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger });
  expect(second.syncs[0]).toMatchObject({ status: 'success', changed: 1 });
  expect(consent('b@example.com')).toEqual({ adUserData: 'CONSENT_GRANTED' });
});
