import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { redact } from '../../src/core/secrets.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import { ENV, PROJECT_YML, TOKEN, loadError, removeProjects, writeProject } from './project-fixture.js';

afterEach(removeProjects);

describe('loadProject on a valid project', () => {
  it('produces the manifest: targets, defaults, models, syncs and destinations', async () => {
    const dir = await writeProject();
    const manifest = await loadProject(dir, { env: ENV });

    expect(manifest.project).toEqual({
      name: 'acme_audiences',
      projectDir: dir,
      file: 'audsync.yml',
      target: { name: 'dev', warehouse: { type: 'duckdb', path: ':memory:' }, sandbox: false },
      stateSchema: 'audsync',
      vars: { purchase_window_days: 14 },
      defaults: { mode: 'mirror', defaultCountry: 'US', maxAttempts: 3, guardrails: { maxRemovePercent: 25, minMembers: 100 } },
    });
    expect(manifest.models.map((m) => m.name)).toEqual(['customers', 'recent_purchasers']);
    expect(manifest.syncs).toEqual([
      {
        id: 'recent_purchasers__meta_main',
        model: 'recent_purchasers',
        destination: 'meta_main',
        audience: { name: 'Recent purchasers' },
        mode: 'mirror',
        guardrails: { maxRemovePercent: 50, minMembers: 100 },
        maxAttempts: 3,
        file: 'models/recent_purchasers.yml',
      },
      {
        id: 'recent_purchasers_us',
        model: 'recent_purchasers',
        destination: 'meta_main',
        audience: { id: '23851234567' },
        mode: 'add_only',
        guardrails: { maxRemovePercent: 25, minMembers: 100 },
        maxAttempts: 3,
        file: 'models/recent_purchasers.yml',
      },
    ]);
    expect(manifest.models[1]!.syncs).toEqual(manifest.syncs);
    expect(manifest.destinations).toEqual([
      {
        name: 'meta_main',
        type: 'meta_custom_audiences',
        file: 'destinations/meta_main.yml',
        config: {
          ad_account_id: 'act_1234567890',
          access_token: TOKEN,
          api_version: 'v21.0',
          api_base_url: 'http://127.0.0.1:9400',
          timeout_ms: 30000,
        },
      },
    ]);
  });

  it('renders vars and refs, with the SQL file read from beside the YAML', async () => {
    const manifest = await loadProject(await writeProject(), { env: ENV });
    const [customers, purchasers] = manifest.models;

    expect(customers).toMatchObject({
      file: 'models/customers.yml',
      description: 'Every customer.',
      owner: 'crm',
      tags: ['base'],
      sql: "select * from raw.customers\nwhere country = 'US'",
      key: 'customer_id',
      identifiers: { email: 'email' },
      consent: 'ads_consent',
      updatedAt: 'updated_at',
      holdout: { percent: 10, salt: '2026q4' },
      syncs: [],
    });
    expect(customers!.sqlFile).toBeUndefined();
    expect(purchasers!.sqlFile).toBe('models/recent_purchasers.sql');
    expect(purchasers!.sql).toBe(
      [
        'select customer_id, email, phone',
        'from (',
        'select * from raw.customers',
        "where country = 'US'",
        ') c',
        'where c.last_purchase_at > current_date - 14',
        "  and c.brand = 'acme'",
      ].join('\n'),
    );
    expect(purchasers!.rawSql).toContain("{{ ref('customers') }}");
  });

  it('lets --vars win over the vars in audsync.yml', async () => {
    const manifest = await loadProject(await writeProject(), { env: ENV, vars: { purchase_window_days: 7, brand: 'zeta', country: 'FR' } });
    expect(manifest.project.vars).toEqual({ purchase_window_days: 7, brand: 'zeta', country: 'FR' });
    expect(manifest.models[1]!.sql).toContain('current_date - 7\n');
    expect(manifest.models[1]!.sql).toContain("c.brand = 'zeta'");
    expect(manifest.models[1]!.sql).toContain("where country = 'FR'");
  });

  it('registers the interpolated token as a secret', async () => {
    await loadProject(await writeProject(), { env: ENV });
    expect(redact(`Bearer ${TOKEN}`)).toBe('Bearer [redacted]');
  });

  it('chooses the target from --target, then AUDSYNC_TARGET, then target:', async () => {
    const dir = await writeProject();
    expect((await loadProject(dir, { env: ENV })).project.target.name).toBe('dev');
    expect((await loadProject(dir, { env: { ...ENV, AUDSYNC_TARGET: 'local' } })).project.target).toEqual({
      name: 'local',
      warehouse: { type: 'duckdb', path: 'audsync.duckdb' },
      sandbox: true,
    });
    expect((await loadProject(dir, { env: { ...ENV, AUDSYNC_TARGET: 'local' }, target: 'dev' })).project.target.name).toBe('dev');
  });

  it('gives an unset secret the sandbox token in a sandbox target', async () => {
    const manifest = await loadProject(await writeProject(), { env: {}, target: 'local' });
    expect(manifest.destinations[0]!.config.access_token).toBe(SANDBOX_TOKEN);
  });

  it('interpolates only the active target, so other targets may name variables unset here', async () => {
    const project = PROJECT_YML.replace(
      '  local:\n',
      '  prod:\n    warehouse: { type: duckdb, path: "${PROD_DB}", threads: 4 }\n  local:\n',
    );
    const manifest = await loadProject(await writeProject({ 'audsync.yml': project }), { env: ENV });
    expect(manifest.project.target.name).toBe('dev');

    const prod = await loadProject(await writeProject({ 'audsync.yml': project }), { env: { ...ENV, PROD_DB: '/data/prod.duckdb' }, target: 'prod' });
    expect(prod.project.target.warehouse).toEqual({ type: 'duckdb', path: '/data/prod.duckdb', threads: 4 });
  });

  it('turns $${ into a literal ${', async () => {
    const meta = 'name: meta_main\ntype: meta_custom_audiences\nad_account_id: act_1\naccess_token: ${META_ACCESS_TOKEN}\napi_base_url: "https://proxy.example.com/$${path}"\n';
    const manifest = await loadProject(await writeProject({ 'destinations/meta_main.yml': meta }), { env: ENV });
    expect(manifest.destinations[0]!.config.api_base_url).toBe('https://proxy.example.com/${path}');
  });

  it('accepts plain http to every loopback form', async () => {
    for (const url of ['http://localhost:9400', 'http://127.0.0.2:9400', 'http://[::1]:9400']) {
      const meta = `name: meta_main\ntype: meta_custom_audiences\nad_account_id: act_1\naccess_token: \${META_ACCESS_TOKEN}\napi_base_url: ${url}\n`;
      const manifest = await loadProject(await writeProject({ 'destinations/meta_main.yml': meta }), { env: ENV });
      expect(manifest.destinations[0]!.config.api_base_url).toBe(url);
    }
  });

  it('accepts a project with an empty models folder and no destinations', async () => {
    const dir = await writeProject({}, { 'audsync.yml': PROJECT_YML });
    await mkdir(path.join(dir, 'models'));
    const manifest = await loadProject(dir, { env: {} });
    expect(manifest.models).toEqual([]);
    expect(manifest.syncs).toEqual([]);
    expect(manifest.destinations).toEqual([]);
  });

  it('says how to start when there is no audsync.yml', async () => {
    const dir = await writeProject({ 'audsync.yml': undefined });
    const error = await loadProject(dir, { env: ENV }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`audsync.yml: no audsync.yml in ${dir}; run \`audsync init\` or pass --project-dir`);
  });

  it('reports several problems in different files in one ConfigError, audsync.yml first', async () => {
    const dir = await writeProject({
      'audsync.yml': PROJECT_YML.replace('name: acme_audiences\n', 'name: acme_audiences\ncolour: blue\n'),
      'destinations/meta_main.yml': 'name: meta_main\ntype: meta_custom_audiences\nad_account_id: act_1\naccess_token: hunter2-literal\n',
      'models/customers.yml': 'name: customers\nsql: select 1\nidentifiers: { email: email }\n',
    });
    const error = await loadError(dir);
    expect(error.issues.map((i) => [i.file, i.path, i.line])).toEqual([
      ['audsync.yml', 'colour', 2],
      ['destinations/meta_main.yml', 'access_token', 4],
      ['models/customers.yml', 'key', 1],
    ]);
    expect(error.message.split('\n')[0]).toBe('3 problems in the project:');
  });
});
