// audsync.yml problems: each asserts the file, field path, line, column and message a user sees.
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_YML, loadIssues, removeProjects, writeProject } from './project-fixture.js';

afterEach(removeProjects);

const withProject = (text: string) => writeProject({ 'audsync.yml': text });

describe('audsync.yml', () => {
  it('reports malformed YAML at the line the parser stopped', async () => {
    const text = 'name: acme\ntargets:\n  dev:\n    warehouse: { type: duckdb\n  prod: {}\n';
    const issues = await loadIssues(await withProject(text));
    // Only the parse error: model files are not blamed for vars that audsync.yml may well define.
    expect(issues).toEqual([
      {
        file: 'audsync.yml',
        path: '',
        line: 5,
        column: 3,
        message: 'malformed YAML: Flow map in block collection must be sufficiently indented and end with a }; fix the syntax here',
      },
    ]);
  });

  it('reports an unknown key with the closest known one', async () => {
    const issues = await loadIssues(await withProject(PROJECT_YML + 'stat_schema: audsync\n'));
    expect(issues).toEqual([
      {
        file: 'audsync.yml',
        path: 'stat_schema',
        line: 16,
        column: 1,
        message: "unknown key 'stat_schema' (did you mean 'state_schema'?); expected one of: name, target, targets, state_schema, vars, defaults",
      },
    ]);
  });

  it('reports wrong types and out-of-range values in defaults', async () => {
    const text = PROJECT_YML.replace('max_attempts: 3', 'max_attempts: three').replace('max_remove_percent: 25', 'max_remove_percent: 250');
    const issues = await loadIssues(await withProject(text));
    expect(issues).toEqual([
      { file: 'audsync.yml', path: 'defaults.max_attempts', line: 12, column: 17, message: 'expected a number, got a string' },
      { file: 'audsync.yml', path: 'defaults.guardrails.max_remove_percent', line: 14, column: 25, message: 'must be at most 100' },
    ]);
  });

  it('checks state_schema and default_country formats', async () => {
    const text = PROJECT_YML + 'state_schema: Audsync-State\n';
    const issues = await loadIssues(await withProject(text.replace('defaults:\n', 'defaults:\n  default_country: us\n')));
    expect(issues).toEqual([
      {
        file: 'audsync.yml',
        path: 'defaults.default_country',
        line: 12,
        column: 20,
        message: 'must be an ISO 3166-1 alpha-2 country code in capitals, such as US',
      },
      {
        file: 'audsync.yml',
        path: 'state_schema',
        line: 17,
        column: 15,
        message: 'must be lowercase letters, digits and underscores, starting with a letter or underscore',
      },
    ]);
  });

  it('points a missing name at the top-level mapping', async () => {
    const issues = await loadIssues(await withProject(PROJECT_YML.replace('name: acme_audiences\n', '')));
    expect(issues).toEqual([{ file: 'audsync.yml', path: 'name', line: 1, column: 1, message: "missing required field 'name'; add name: <project name>" }]);
  });

  it('reports an unknown target with the targets that exist', async () => {
    const dir = await withProject(PROJECT_YML);
    expect(await loadIssues(dir, { target: 'staging' })).toEqual([
      { file: 'audsync.yml', path: 'targets', line: 3, column: 1, message: "unknown target 'staging' (from --target); the targets in audsync.yml are: dev, local" },
    ]);
    expect(await loadIssues(dir, { env: { AUDSYNC_TARGET: 'qa' } })).toEqual([
      { file: 'audsync.yml', path: 'targets', line: 3, column: 1, message: "unknown target 'qa' (from AUDSYNC_TARGET); the targets in audsync.yml are: dev, local" },
    ]);
    expect(await loadIssues(await withProject(PROJECT_YML.replace('target: dev', 'target: prod')))).toEqual([
      { file: 'audsync.yml', path: 'target', line: 2, column: 9, message: "unknown target 'prod'; the targets in audsync.yml are: dev, local" },
    ]);
  });

  it('asks for a target when there are several and none is chosen', async () => {
    const issues = await loadIssues(await withProject(PROJECT_YML.replace('target: dev\n', '')));
    expect(issues).toEqual([
      { file: 'audsync.yml', path: 'target', line: 1, column: 1, message: 'no target chosen; add target: <name> (one of: dev, local) or pass --target' },
    ]);
  });

  it('reports an unknown warehouse type with the known ones', async () => {
    const issues = await loadIssues(await withProject(PROJECT_YML.replace('type: duckdb, path: audsync.duckdb', 'type: oracle')));
    expect(issues).toEqual([
      { file: 'audsync.yml', path: 'targets.local.warehouse.type', line: 7, column: 24, message: "unknown warehouse type 'oracle'; known types: duckdb, postgres, bigquery, snowflake" },
    ]);
  });

  it("validates every target's warehouse options with the engine's schema", async () => {
    const text = PROJECT_YML.replace('path: audsync.duckdb', 'path: audsync.duckdb, memory: 1GB').replace('path: ":memory:"', 'path: ":memory:", threads: 0');
    const issues = await loadIssues(await withProject(text));
    expect(issues).toEqual([
      { file: 'audsync.yml', path: 'targets.dev.warehouse.threads', line: 5, column: 59, message: 'must be greater than 0' },
      {
        file: 'audsync.yml',
        path: 'targets.local.warehouse.memory',
        line: 7,
        column: 54,
        message: "unknown key 'memory'; expected one of: path, memory_limit, threads, init_sql",
      },
    ]);
  });

  it('reports an unset variable in the active target only', async () => {
    const text = PROJECT_YML.replace('path: ":memory:"', 'path: "${DEV_DB}"').replace('path: audsync.duckdb', 'path: "${LOCAL_DB}"');
    const issues = await loadIssues(await withProject(text));
    expect(issues).toEqual([
      {
        file: 'audsync.yml',
        path: 'targets.dev.warehouse.path',
        line: 5,
        column: 38,
        message: 'environment variable DEV_DB is not set; set DEV_DB in the environment',
      },
    ]);
  });
});
