// A DuckDB user never loads the BigQuery or Snowflake SDK. Checked in a fresh Node process (this
// test process has whatever other test files imported): the demo project is run through the CLI
// with a module hook that logs every module the process resolves, ESM (a resolve hook in the
// loader thread) and CommonJS (require.cache at exit, where both SDKs land, being CommonJS).
// A control run that imports an SDK shows the log would catch it.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SDKS = ['/node_modules/snowflake-sdk/', '/node_modules/@google-cloud/bigquery/'];

const REGISTER = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const log = process.env.AUDSYNC_MODULE_LOG;
register('./hooks.mjs', import.meta.url, { data: { log } });
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(log, Object.keys(require.cache).join('\\n') + '\\n'));
`;
const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-lazy-'));
  await writeFile(join(dir, 'register.mjs'), REGISTER);
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  const project = join(dir, 'project');
  for (const part of ['audsync.yml', 'models', 'destinations', 'demo']) await cp(join(ROOT, part), join(project, part), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadedModules(args: string[], name: string): Promise<{ code: number; stderr: string; modules: string[] }> {
  const log = join(dir, `${name}.log`);
  await writeFile(log, '');
  const result = await new Promise<{ code: number; stderr: string }>((done) => {
    execFile(process.execPath, ['--import', join(dir, 'register.mjs'), ...args], { cwd: ROOT, env: { ...process.env, AUDSYNC_MODULE_LOG: log } }, (error, _stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((m) => m.replace(/\\/g, '/'));
  return { ...result, modules };
}

describe('lazy drivers', () => {
  it('a DuckDB run (the demo project, through the CLI) loads neither the BigQuery nor the Snowflake SDK', async () => {
    const { code, stderr, modules } = await loadedModules([join(ROOT, 'bin/audsync.js'), 'run', '--project-dir', join(dir, 'project')], 'duckdb-run');
    expect(code, stderr).toBe(0);
    expect(modules.some((m) => m.includes('/node_modules/@duckdb/')), 'the log sees package loads').toBe(true);
    // The CLI runs from its cached bundle of src/ (bin/bundle.js), the warehouse registry included.
    expect(modules.some((m) => /\/node_modules\/\.cache\/audsync\/[0-9a-f]+\/main\.js$/.test(m)), "audsync's own bundle was loaded").toBe(true);
    expect(modules.filter((m) => SDKS.some((sdk) => m.includes(sdk)))).toEqual([]);
  });

  it('control: importing an SDK shows up in the same log', async () => {
    const { code, modules } = await loadedModules(['--input-type=module', '-e', "await import('@google-cloud/bigquery'); await import('snowflake-sdk');"], 'control');
    expect(code).toBe(0);
    for (const sdk of SDKS) expect(modules.some((m) => m.includes(sdk)), sdk).toBe(true);
  });
});
