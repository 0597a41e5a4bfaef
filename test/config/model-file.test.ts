// models/*.yml problems: each asserts the file, field path, line, column and message a user sees.
import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS_YML, PURCHASERS_YML, loadIssues, removeProjects, writeProject } from './project-fixture.js';

afterEach(removeProjects);

const FILE = 'models/recent_purchasers.yml';
const withPurchasers = (text: string) => writeProject({ 'models/recent_purchasers.yml': text });

describe('model files', () => {
  it('reports malformed YAML at its line', async () => {
    const text = 'name: recent_purchasers\nsyncs:\n  - destination: meta_main\n   audience: { name: x }\n';
    const issues = await loadIssues(await withPurchasers(text));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: FILE, path: '', line: 4 });
    expect(issues[0]!.message).toMatch(/^malformed YAML: /);
  });

  it('reports an unknown key inside a sync', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('mode: add_only', 'mode: add_only\n    audince: { name: x }')));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'syncs.1.audince',
        line: 16,
        column: 5,
        message: "unknown key 'audince' (did you mean 'audience'?); expected one of: destination, audience, name, mode, guardrails, max_attempts",
      },
    ]);
  });

  it('reports wrong types without repeating the value', async () => {
    const text = PURCHASERS_YML.replace('tags: [ecommerce, suppression]', 'tags: ecommerce').replace('mode: add_only', 'mode: replace\n    max_attempts: 0');
    const issues = await loadIssues(await withPurchasers(text));
    expect(issues).toEqual([
      { file: FILE, path: 'tags', line: 2, column: 7, message: 'expected a list, got a string; write it as a list, e.g. [first, second]' },
      { file: FILE, path: 'syncs.1.mode', line: 15, column: 11, message: 'must be one of: mirror, add_only' },
      { file: FILE, path: 'syncs.1.max_attempts', line: 16, column: 19, message: 'must be at least 1' },
    ]);
  });

  it('points missing key, sql and identifiers at the mapping that lacks them', async () => {
    const text = 'name: recent_purchasers\nsyncs:\n  - destination: meta_main\n    audience: { name: x }\n';
    const issues = await loadIssues(await withPurchasers(text));
    expect(issues).toEqual([
      { file: FILE, path: 'sql', line: 1, column: 1, message: "missing required field 'sql'; add sql: | followed by the query, or sql: <file>.sql beside this file" },
      { file: FILE, path: 'key', line: 1, column: 1, message: "missing required field 'key'; add key: <column> (the unique, non-null member key of the query)" },
      {
        file: FILE,
        path: 'identifiers',
        line: 1,
        column: 1,
        message: "missing required field 'identifiers'; add identifiers: { email: <column> } (identifier kind -> column)",
      },
    ]);
  });

  it('points a sync without an audience at that sync', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('    audience: { id: 23851234567 }\n', '')));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'syncs.1.audience',
        line: 12,
        column: 5,
        message: 'missing required field \'audience\'; add audience: { name: "..." } or audience: { id: "..." }',
      },
    ]);
  });

  it('needs exactly one of audience id and name, and an id that survives YAML', async () => {
    const text = PURCHASERS_YML.replace('{ name: "Recent purchasers" }', '{ name: a, id: "1" }').replace('{ id: 23851234567 }', '{ id: 23851234567890123 }');
    const issues = await loadIssues(await withPurchasers(text));
    expect(issues).toEqual([
      { file: FILE, path: 'syncs.0.audience', line: 10, column: 15, message: 'give exactly one of id (an existing audience) or name (found or created by name)' },
      {
        file: FILE,
        path: 'syncs.1.audience.id',
        line: 14,
        column: 21,
        message: 'this id is too long to be read exactly as a YAML number; write it in quotes, e.g. id: "23851234567890123"',
      },
    ]);
  });

  it('names the unknown identifier kind and the kinds that exist', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('  phone: phone', '  emial: email2')));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'identifiers.emial',
        line: 7,
        column: 3,
        message:
          "unknown identifier kind 'emial' (did you mean 'email'?); expected one of: email, phone, first_name, last_name, zip, city, state, country, maid, external_id",
      },
    ]);
  });

  it('needs at least one identifier', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('identifiers:\n  email: email\n  phone: phone', 'identifiers: {}')));
    expect(issues).toEqual([{ file: FILE, path: 'identifiers', line: 5, column: 14, message: 'map at least one identifier kind to a column, e.g. email: email' }]);
  });

  it('reports a sync to a destination that does not exist', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('  - destination: meta_main\n    name:', '  - destination: meta_mian\n    name:')));
    expect(issues).toEqual([{ file: FILE, path: 'syncs.1.destination', line: 12, column: 18, message: "no destination named 'meta_mian'; destinations: meta_main" }]);
  });

  it('reports a missing SQL file at the sql field', async () => {
    const issues = await loadIssues(await writeProject({ 'models/recent_purchasers.sql': undefined }));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'sql',
        line: 3,
        column: 6,
        message: 'SQL file models/recent_purchasers.sql not found; create it beside this file or write the query inline with sql: |',
      },
    ]);
  });

  it('reports duplicate sync ids at the second one, naming the first', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('    name: recent_purchasers_us\n', '')));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'syncs.1',
        line: 12,
        column: 5,
        message: "sync id 'recent_purchasers__meta_main' is also declared at models/recent_purchasers.yml syncs.0; give one of them a different name:",
      },
    ]);
  });

  it('reports a sync name reused in another model', async () => {
    const customers = CUSTOMERS_YML + 'syncs:\n  - destination: meta_main\n    name: recent_purchasers_us\n    audience: { name: All }\n';
    const issues = await loadIssues(await writeProject({ 'models/customers.yml': customers }));
    expect(issues).toEqual([
      {
        file: FILE,
        path: 'syncs.1.name',
        line: 13,
        column: 11,
        message: "sync id 'recent_purchasers_us' is also declared at models/customers.yml syncs.0; give one of them a different name:",
      },
    ]);
  });

  it('reports a model name used twice', async () => {
    const issues = await loadIssues(await writeProject({ 'models/zz_copy.yml': CUSTOMERS_YML }));
    expect(issues).toEqual([
      { file: 'models/zz_copy.yml', path: 'name', line: 1, column: 7, message: "model name 'customers' is also used by models/customers.yml; model names must be unique" },
    ]);
  });

  it('requires SQL-safe model names', async () => {
    const issues = await loadIssues(await withPurchasers(PURCHASERS_YML.replace('name: recent_purchasers\n', 'name: Recent-Purchasers\n')));
    expect(issues).toEqual([
      { file: FILE, path: 'name', line: 1, column: 7, message: 'must be lowercase letters, digits and underscores, starting with a letter or underscore' },
    ]);
  });

  it('still checks the syncs of a model with other problems', async () => {
    const text = PURCHASERS_YML.replace('key: customer_id\n', '').replace('  - destination: meta_main\n    audience: { name', '  - destination: nowhere\n    audience: { name');
    const issues = await loadIssues(await withPurchasers(text));
    expect(issues.map((i) => `${i.path}@${i.line}`)).toEqual(['key@1', 'syncs.0.destination@8']);
  });
});
