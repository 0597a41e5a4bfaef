// destinations/*.yml problems: each asserts the file, field path, line, column and message a user sees.
import { afterEach, describe, expect, it } from 'vitest';
import { ENV, META_YML, loadError, loadIssues, removeProjects, writeProject } from './project-fixture.js';

afterEach(removeProjects);

const FILE = 'destinations/meta_main.yml';
const withMeta = (text: string) => writeProject({ 'destinations/meta_main.yml': text });

describe('destination files', () => {
  it('reports malformed YAML without blaming the syncs that name the destination', async () => {
    const issues = await loadIssues(await withMeta('name: meta_main\ntype: [meta_custom_audiences\n'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: FILE, path: '', line: 3 });
    expect(issues[0]!.message).toMatch(/^malformed YAML: /);
  });

  it("reports an unknown key using the platform's schema", async () => {
    const issues = await loadIssues(await withMeta(META_YML + 'acount_id: act_1\n'));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'acount_id',
        line: 6,
        column: 1,
        message:
          "unknown key 'acount_id'; expected one of: ad_account_id, access_token, app_secret, api_version, api_base_url, limits, timeout_ms",
      },
    ]);
  });

  it("reports wrong types and the platform's own format messages", async () => {
    const text = META_YML.replace('ad_account_id: act_1234567890', 'ad_account_id: 1234567890') + 'timeout_ms: fast\nlimits: { concurrency: 100 }\n';
    const issues = await loadIssues(await withMeta(text));
    expect(issues).toEqual([
      { file: FILE, path: 'ad_account_id', line: 3, column: 16, message: 'expected a string, got a whole number; write it in quotes' },
      { file: FILE, path: 'timeout_ms', line: 6, column: 13, message: 'expected a number, got a string' },
      { file: FILE, path: 'limits.concurrency', line: 7, column: 24, message: 'must be at most 64' },
    ]);
  });

  it('reports a missing type with the available types', async () => {
    const issues = await loadIssues(await withMeta(META_YML.replace('type: meta_custom_audiences\n', '')));
    expect(issues).toEqual([{ file: FILE, path: 'type', line: 1, column: 1, message: "missing required field 'type'; add type: one of meta_custom_audiences, google_customer_match" }]);
  });

  it('reports an unknown type with the known types', async () => {
    const issues = await loadIssues(await withMeta(META_YML.replace('meta_custom_audiences', 'facebook')));
    expect(issues).toEqual([{ file: FILE, path: 'type', line: 2, column: 7, message: "unknown destination type 'facebook'; known types: meta_custom_audiences, google_customer_match" }]);
  });

  it('says a planned type is not available yet', async () => {
    const tiktok = 'name: meta_main\ntype: tiktok_audiences\nadvertiser_id: "1234567890"\n';
    const issues = await loadIssues(await withMeta(tiktok));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'type',
        line: 2,
        column: 7,
        message: "type 'tiktok_audiences' is not available yet in this version of audsync; available types: meta_custom_audiences, google_customer_match",
      },
    ]);
  });

  it('refuses a literal secret without repeating it', async () => {
    const literal = 'EAABliteralSecretValue42';
    const error = await loadError(await withMeta(META_YML.replace('${META_ACCESS_TOKEN}', literal)));
    expect(error.issues).toEqual([
      {
        file: FILE,
        path: 'access_token',
        line: 4,
        column: 15,
        message: 'a literal secret in a file would be committed to git; write access_token: ${META_MAIN_ACCESS_TOKEN} and set the variable',
      },
    ]);
    expect(error.message).not.toContain(literal);
    expect(JSON.stringify(error.issues)).not.toContain(literal);
  });

  it('refuses a secret that is more than one ${VAR} reference', async () => {
    const issues = await loadIssues(await withMeta(META_YML.replace('${META_ACCESS_TOKEN}', '"Bearer ${META_ACCESS_TOKEN}"')));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'access_token',
        line: 4,
        column: 15,
        message: 'a secret must be exactly one ${VAR} reference with nothing around it; write access_token: ${META_MAIN_ACCESS_TOKEN} and set the variable',
      },
    ]);
  });

  it('reports unset variables, secret or not, naming the variable and field', async () => {
    const text = META_YML.replace('act_1234567890', '${META_AD_ACCOUNT}');
    const issues = await loadIssues(await withMeta(text), { env: {} });
    expect(issues).toEqual([
      { file: FILE, path: 'ad_account_id', line: 3, column: 16, message: 'environment variable META_AD_ACCOUNT is not set; set META_AD_ACCOUNT in the environment' },
      {
        file: FILE,
        path: 'access_token',
        line: 4,
        column: 15,
        message: 'environment variable META_ACCESS_TOKEN is not set; set META_ACCESS_TOKEN in the environment (it holds access_token)',
      },
    ]);
  });

  it('tolerates an unset secret in a sandbox target but not an unset ordinary variable', async () => {
    const dir = await withMeta(META_YML.replace('act_1234567890', '${META_AD_ACCOUNT}'));
    const issues = await loadIssues(dir, { env: {}, target: 'local' });
    expect(issues.map((i) => i.path)).toEqual(['ad_account_id']);
  });

  it('refuses plain http to a remote host', async () => {
    const issues = await loadIssues(await withMeta(META_YML.replace('http://127.0.0.1:9400', 'http://proxy.example.com:8080')));
    expect(issues).toEqual([{ file: FILE, path: 'api_base_url', line: 5, column: 15, message: 'plain http is allowed only to loopback; use https' }]);
  });

  it('refuses plain http to a remote host in a sandbox target too', async () => {
    const issues = await loadIssues(await withMeta(META_YML.replace('http://127.0.0.1:9400', 'http://10.0.0.8')), { env: ENV, target: 'local' });
    expect(issues.map((i) => i.message)).toEqual(['plain http is allowed only to loopback; use https']);
  });

  it('reports a destination name used twice', async () => {
    const issues = await loadIssues(await writeProject({ 'destinations/meta_other.yml': META_YML }));
    expect(issues).toEqual([
      {
        file: 'destinations/meta_other.yml',
        path: 'name',
        line: 1,
        column: 7,
        message: "destination name 'meta_main' is also used by destinations/meta_main.yml; destination names must be unique",
      },
    ]);
  });
});
