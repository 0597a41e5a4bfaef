// A `sandbox: true` target: destinations go to the built-in simulators whatever their api_base_url,
// with the simulator's token (a real token from the environment never reaches it), and audiences
// persist across runs in .audsync/sandbox.json.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { runInvocation } from '../../src/runner/invocation.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { emailHash } from '../support/project.js';

const REAL_LOOKING_TOKEN = 'EAAB-real-looking-token-0123456789';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-sandbox-'));
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await writeFile(join(dir, 'audsync.yml'), 'name: s\ntarget: dev\ntargets:\n  dev:\n    warehouse: { type: duckdb, path: state.duckdb }\n    sandbox: true\n');
  await writeFile(
    join(dir, 'models', 'm.yml'),
    `name: m
sql: "SELECT * FROM (VALUES ('1', 'A@example.com'), ('2', 'b@example.com')) AS t(id, email)"
key: id
identifiers: { email: email }
syncs: [{ destination: meta, audience: { name: "Sandboxed" } }]
`,
  );
  // api_base_url points nowhere reachable: the sandbox target must override it.
  await writeFile(
    join(dir, 'destinations', 'meta.yml'),
    'name: meta\ntype: meta_custom_audiences\nad_account_id: act_42\naccess_token: ${SANDBOX_TEST_TOKEN}\napi_base_url: https://graph.invalid\n',
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('sends to the simulator with its own token and keeps audiences across runs', async () => {
  const env = { ...process.env, SANDBOX_TEST_TOKEN: REAL_LOOKING_TOKEN };
  const run = async () => (await runInvocation(await loadProject(dir, { env }), { command: 'run', logger: silentLogger })).syncs[0]!;

  const first = await run();
  expect(first).toMatchObject({ status: 'success', added: 2 });
  const second = await run();
  expect(second).toMatchObject({ status: 'success', added: 0, audience_id: first.audience_id });

  const stateFile = join(dir, '.audsync', 'sandbox.json');
  expect(await readFile(stateFile, 'utf8')).not.toContain(REAL_LOOKING_TOKEN);
  const sandbox = await startSandbox({ stateFile });
  try {
    expect(sandbox.meta.audiences()).toEqual([expect.objectContaining({ id: first.audience_id, name: 'Sandboxed', adAccountId: 'act_42' })]);
    expect(sandbox.meta.members(first.audience_id!, 'EMAIL')).toEqual([emailHash('a@example.com'), emailHash('b@example.com')].sort());
  } finally {
    await sandbox.close();
  }
});
