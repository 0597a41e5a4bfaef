// Templating problems in model SQL: a .sql file's issues point into that file, inline SQL's at `sql:`.
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { CUSTOMERS_YML, ENV, PROJECT_YML, PURCHASERS_SQL, loadIssues, removeProjects, writeProject } from './project-fixture.js';

afterEach(removeProjects);

const SQL_FILE = 'models/recent_purchasers.sql';

describe('model SQL templating', () => {
  it('reports an undefined var at its line in the .sql file, naming the model and the var', async () => {
    const issues = await loadIssues(await writeProject({ 'audsync.yml': PROJECT_YML.replace('vars:\n  purchase_window_days: 14\n', '') }));
    expect(issues).toEqual([
      {
        file: SQL_FILE,
        path: '',
        line: 3,
        column: 43,
        message: `model 'recent_purchasers': var 'purchase_window_days' is not defined; add it under vars: in audsync.yml, pass --vars '{"purchase_window_days": ...}', or give a default: {{ var('purchase_window_days', ...) }}`,
      },
    ]);
  });

  it('takes a var from --vars when audsync.yml does not define it', async () => {
    const dir = await writeProject({ 'audsync.yml': PROJECT_YML.replace('vars:\n  purchase_window_days: 14\n', '') });
    const manifest = await loadProject(dir, { env: ENV, vars: { purchase_window_days: 30 } });
    expect(manifest.models[1]!.sql).toContain('current_date - 30\n');
  });

  it('reports an undefined var in inline SQL at the sql field', async () => {
    const customers = CUSTOMERS_YML.replace("'{{ var('country', \"US\") }}'", "{{ var('region') }}");
    const issues = await loadIssues(await writeProject({ 'models/customers.yml': customers }));
    expect(issues).toEqual([
      {
        file: 'models/customers.yml',
        path: 'sql',
        line: 5,
        column: 6,
        message: `model 'customers': var 'region' is not defined; add it under vars: in audsync.yml, pass --vars '{"region": ...}', or give a default: {{ var('region', ...) }}`,
      },
    ]);
  });

  it('refuses a var whose value is a list', async () => {
    const project = PROJECT_YML.replace('purchase_window_days: 14', 'purchase_window_days: [7, 14]');
    const issues = await loadIssues(await writeProject({ 'audsync.yml': project }));
    expect(issues.map((i) => i.message)).toEqual([
      "model 'recent_purchasers': var 'purchase_window_days' is a list; only strings, numbers and booleans can be put into SQL",
    ]);
  });

  it('reports a ref to a model that does not exist', async () => {
    const issues = await loadIssues(await writeProject({ [SQL_FILE]: PURCHASERS_SQL.replace("ref('customers')", "ref('custmers')") }));
    expect(issues).toEqual([
      { file: SQL_FILE, path: '', line: 2, column: 6, message: "model 'recent_purchasers': ref('custmers') names no model; models it can ref: customers" },
    ]);
  });

  it('does not report a ref to a model whose own SQL is missing a second time', async () => {
    const customers = CUSTOMERS_YML.replace(/sql: \|\n.*\n.*\n/, 'sql: customers.sql\n');
    const issues = await loadIssues(await writeProject({ 'models/customers.yml': customers }));
    expect(issues.map((i) => [i.file, i.path, i.message])).toEqual([
      ['models/customers.yml', 'sql', 'SQL file models/customers.sql not found; create it beside this file or write the query inline with sql: |'],
    ]);
  });

  it('reports a ref cycle once, with the chain', async () => {
    const customers = CUSTOMERS_YML.replace('select * from raw.customers', "select * from {{ ref('recent_purchasers') }} x");
    const issues = await loadIssues(await writeProject({ 'models/customers.yml': customers }));
    expect(issues).toEqual([
      {
        file: SQL_FILE,
        path: '',
        line: 2,
        column: 6,
        message: "model 'recent_purchasers': ref cycle customers -> recent_purchasers -> customers; a model cannot depend on itself",
      },
    ]);
  });

  it('reports a model that refs itself', async () => {
    const customers = CUSTOMERS_YML.replace('select * from raw.customers', "select * from {{ ref('customers') }} x");
    const issues = await loadIssues(await writeProject({ 'models/customers.yml': customers }));
    expect(issues.map((i) => [i.file, i.message])).toEqual([
      ['models/customers.yml', "model 'customers': ref cycle customers -> customers; a model cannot depend on itself"],
    ]);
  });

  it('reports anything else inside {{ }}', async () => {
    const sql = "{{ config(materialized='table') }}\n" + PURCHASERS_SQL.replace("var('purchase_window_days')", 'var(purchase_window_days)');
    const issues = await loadIssues(await writeProject({ [SQL_FILE]: sql }));
    const supported = "only {{ var('name') }}, {{ var('name', default) }} and {{ ref('model') }} are supported";
    expect(issues).toEqual([
      {
        file: SQL_FILE,
        path: '',
        line: 1,
        column: 1,
        message: `model 'recent_purchasers': unsupported template expression '{{ config(materialized='table') }}'; ${supported}`,
      },
      {
        file: SQL_FILE,
        path: '',
        line: 4,
        column: 43,
        message: `model 'recent_purchasers': unsupported template expression '{{ var(purchase_window_days) }}'; ${supported}`,
      },
    ]);
  });

  it('reports an unclosed {{', async () => {
    const issues = await loadIssues(await writeProject({ [SQL_FILE]: PURCHASERS_SQL + "-- {{ var('x')\n" }));
    expect(issues).toEqual([{ file: SQL_FILE, path: '', line: 5, column: 4, message: "model 'recent_purchasers': '{{' without a closing '}}'" }]);
  });
});
