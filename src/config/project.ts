// audsync.yml: the project, its targets and defaults. Every target's warehouse mapping is checked
// against its engine's schema, but only the active target reads environment variables: another
// target may name variables that exist only on the machines that use it.
import type { ConfigIssue } from '../core/errors.js';
import type { Defaults, Guardrails, ProjectConfig, WarehouseConfig } from '../core/manifest.js';
import { loadWarehouseConfigSpec, warehouseTypes } from '../warehouse/registry.js';
import { hasReference, interpolateConfig } from './env.js';
import { issueAt, valueAt } from './positions.js';
import { defaultsSchema, projectSchema, varsSchema, type DefaultsFile } from './project-schema.js';
import { validate } from './zod-issues.js';
import { readYamlFile, type YamlSource } from './yaml-file.js';

export const PROJECT_FILE = 'audsync.yml';

export interface ProjectDraft {
  /** Undefined when audsync.yml has a problem. */
  config?: ProjectConfig;
  /** Parsed, or the built-in defaults, so model files can still be checked. */
  defaults: Defaults;
  /** The file's vars with --vars on top; undefined when audsync.yml's vars could not be read. */
  vars: Record<string, unknown> | undefined;
  /** The active target's sandbox flag; undefined when there is no valid active target. */
  sandbox: boolean | undefined;
}

export interface TargetChoice {
  cli?: string; // --target
  env?: string; // AUDSYNC_TARGET
}

export async function loadProjectFile(
  projectDir: string,
  choice: TargetChoice,
  cliVars: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): Promise<ProjectDraft> {
  const before = issues.length;
  const src = await readYamlFile(projectDir, PROJECT_FILE, issues);
  if (!src) return { defaults: toDefaults(defaultsSchema.parse({})), vars: undefined, sandbox: undefined };

  const parsed = validate(projectSchema, src.data, src, issues, {
    missingHints: {
      name: 'add name: <project name>',
      targets: 'add targets: { dev: { warehouse: { type: duckdb, path: audsync.duckdb } } }',
    },
  });
  // Sections that are valid on their own still let the model files be checked.
  const defaults = toDefaults(parsed?.defaults ?? defaultsSchema.safeParse(src.data.defaults ?? {}).data ?? defaultsSchema.parse({}));
  const fileVars = parsed?.vars ?? varsSchema.safeParse(src.data.vars ?? {}).data;
  const vars = fileVars && { ...fileVars, ...cliVars };

  const targets = isRecord(src.data.targets) ? src.data.targets : {};
  const active = chooseTarget(src, Object.keys(targets), choice, issues);
  let warehouse: WarehouseConfig | undefined;
  for (const [name, target] of Object.entries(targets)) {
    if (!isRecord(target) || !isRecord(target.warehouse)) continue; // the schema reported it
    const checked = await checkWarehouse(src, name, target.warehouse, name === active, env, issues);
    if (name === active) warehouse = checked;
  }
  const activeTarget = active === undefined ? undefined : targets[active];
  const sandbox = isRecord(activeTarget) ? activeTarget.sandbox === true : undefined;

  if (!parsed || !vars || active === undefined || !warehouse || issues.length > before) return { defaults, vars, sandbox };
  return {
    config: {
      name: parsed.name,
      projectDir,
      file: PROJECT_FILE,
      target: { name: active, warehouse, sandbox: parsed.targets[active]!.sandbox },
      stateSchema: parsed.state_schema,
      vars,
      defaults,
    },
    defaults,
    vars,
    sandbox,
  };
}

/** --target, then AUDSYNC_TARGET, then `target:`; a project with one target needs none of them. */
function chooseTarget(src: YamlSource, names: string[], choice: TargetChoice, issues: ConfigIssue[]): string | undefined {
  const fromFile = typeof src.data.target === 'string' ? src.data.target : undefined;
  const [name, via] =
    choice.cli !== undefined ? [choice.cli, ' (from --target)'] : choice.env ? [choice.env, ' (from AUDSYNC_TARGET)'] : [fromFile, ''];
  if (names.length === 0) return undefined; // the schema reported the missing targets
  if (name === undefined) {
    if (names.length === 1) return names[0];
    issues.push(issueAt(src, ['target'], `no target chosen; add target: <name> (one of: ${names.join(', ')}) or pass --target`));
    return undefined;
  }
  if (names.includes(name)) return name;
  const path = via ? ['targets'] : ['target'];
  issues.push(issueAt(src, path, `unknown target '${name}'${via}; the targets in ${PROJECT_FILE} are: ${names.join(', ')}`));
  return undefined;
}

async function checkWarehouse(
  src: YamlSource,
  targetName: string,
  mapping: Record<string, unknown>,
  active: boolean,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
): Promise<WarehouseConfig | undefined> {
  const prefix = ['targets', targetName, 'warehouse'];
  const { type, ...options } = mapping;
  const known = warehouseTypes().join(', ');
  if (typeof type !== 'string') {
    const message = type === undefined ? `missing required field 'type'; add type: one of ${known}` : `expected a string, one of ${known}`;
    issues.push(issueAt(src, [...prefix, 'type'], message));
    return undefined;
  }
  const spec = await loadWarehouseConfigSpec(type);
  if (!spec) {
    issues.push(issueAt(src, [...prefix, 'type'], `unknown warehouse type '${type}'; known types: ${known}`));
    return undefined;
  }
  const before = issues.length;
  const { value: data, reported } = interpolateConfig(
    options,
    { src, prefix, env, secretFields: spec.secretFields, resolve: active, sandbox: false, varPrefix: type },
    issues,
  );
  const parsed = validate(spec.schema, data, src, issues, {
    prefix,
    // An inactive target keeps its ${VAR}s; formats (URLs, numbers) can only be checked once they are filled in.
    ignore: (path) => reported.has(path.join('.')) || (!active && hasReference(valueAt(options, path))),
  });
  if (parsed === undefined || issues.length > before) return undefined;
  return { type, ...(parsed as Record<string, unknown>) };
}

export function toDefaults(file: DefaultsFile): Defaults {
  return { mode: file.mode, defaultCountry: file.default_country, maxAttempts: file.max_attempts, guardrails: toGuardrails(file.guardrails) };
}

/** snake_case file fields to the manifest's camelCase, leaving out what is not set. */
export function toGuardrails(file: { max_remove_percent?: number; max_add_percent?: number; min_members?: number }): Guardrails {
  const out: Guardrails = {};
  if (file.max_remove_percent !== undefined) out.maxRemovePercent = file.max_remove_percent;
  if (file.max_add_percent !== undefined) out.maxAddPercent = file.max_add_percent;
  if (file.min_members !== undefined) out.minMembers = file.min_members;
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
