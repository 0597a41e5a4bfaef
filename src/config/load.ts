// loadProject: reads every file, runs every check, and either returns the Manifest or throws one
// ConfigError listing every problem, so a user fixes them in one pass instead of one per run.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import type { DestinationDef, Manifest, ModelDef } from '../core/manifest.js';
import { loadDestination } from './destination.js';
import { buildModel, loadModelFile, syncId, type ModelDraft } from './model.js';
import { issueAt } from './positions.js';
import { loadProjectFile, PROJECT_FILE } from './project.js';
import { renderModels } from './template.js';
import { fileStem, listYamlFiles, readYamlFile } from './yaml-file.js';

export interface LoadOptions {
  /** --target; wins over AUDSYNC_TARGET and `target:`. */
  target?: string;
  /** --vars; wins over `vars:` in audsync.yml. */
  vars?: Record<string, unknown>;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function loadProject(projectDir: string, options: LoadOptions = {}): Promise<Manifest> {
  const dir = path.resolve(projectDir);
  const env = options.env ?? process.env;
  if (!(await exists(path.join(dir, PROJECT_FILE)))) {
    throw new ConfigError([{ file: PROJECT_FILE, path: '', message: `no ${PROJECT_FILE} in ${dir}; run \`audsync init\` or pass --project-dir` }]);
  }
  const issues: ConfigIssue[] = [];
  const choice = { ...(options.target !== undefined ? { cli: options.target } : {}), ...(env.AUDSYNC_TARGET ? { env: env.AUDSYNC_TARGET } : {}) };
  const project = await loadProjectFile(dir, choice, options.vars ?? {}, env, issues);

  const destinations: DestinationDef[] = [];
  const destinationNames = new Map<string, string>(); // name -> file
  for (const file of await listYamlFiles(dir, 'destinations')) {
    const src = await readYamlFile(dir, file, issues);
    // An unreadable file most likely declares the name of its file; syncs naming it are not reported again.
    const draft = src ? await loadDestination(src, { env, sandbox: project.sandbox }, issues) : { name: fileStem(file) };
    const first = destinationNames.get(draft.name);
    if (first !== undefined && src) {
      issues.push(issueAt(src, ['name'], `destination name '${draft.name}' is also used by ${first}; destination names must be unique`));
      continue;
    }
    destinationNames.set(draft.name, file);
    if (draft.def) destinations.push(draft.def);
  }

  const drafts: ModelDraft[] = [];
  const modelNames = new Map<string, string>(); // name -> file
  for (const file of await listYamlFiles(dir, 'models')) {
    const src = await readYamlFile(dir, file, issues);
    if (!src) continue;
    const draft = await loadModelFile(dir, src, issues);
    if (draft.name !== undefined) {
      const first = modelNames.get(draft.name);
      if (first !== undefined) {
        issues.push(issueAt(src, ['name'], `model name '${draft.name}' is also used by ${first}; model names must be unique`));
        continue;
      }
      modelNames.set(draft.name, file);
    }
    drafts.push(draft);
  }

  checkSyncs(drafts, destinationNames, issues);
  const rendered = renderModels(
    drafts.flatMap((d) => (d.sql ? [d.sql] : [])),
    new Set(modelNames.keys()),
    project.vars,
    issues,
  );

  if (issues.length > 0 || !project.config) {
    throw new ConfigError(sortIssues(issues), { hint: 'fix the files listed and run `audsync validate` again' });
  }
  const models: ModelDef[] = drafts.map((d) => buildModel(d, d.parsed!, rendered.get(d.name!)!, project.defaults));
  return { project: project.config, models, destinations, syncs: models.flatMap((m) => m.syncs) };
}

/** Every sync names a destination that exists, and no two syncs share an id across all models. */
function checkSyncs(drafts: ModelDraft[], destinations: Map<string, string>, issues: ConfigIssue[]): void {
  const known = [...destinations.keys()].join(', ') || 'none yet (add a file to destinations/)';
  const ids = new Map<string, string>(); // id -> where it was first declared
  for (const draft of drafts) {
    for (const { index, sync } of draft.syncs) {
      if (!destinations.has(sync.destination)) {
        issues.push(issueAt(draft.src, ['syncs', index, 'destination'], `no destination named '${sync.destination}'; destinations: ${known}`));
      }
      if (draft.name === undefined) continue;
      const id = syncId(draft.name, sync);
      const here = `${draft.src.file} syncs.${index}`;
      const first = ids.get(id);
      if (first !== undefined) {
        const path = sync.name !== undefined ? ['syncs', index, 'name'] : ['syncs', index];
        issues.push(issueAt(draft.src, path, `sync id '${id}' is also declared at ${first}; give one of them a different name:`));
      } else {
        ids.set(id, here);
      }
    }
  }
}

/** audsync.yml first, then by file and line, so the list reads top to bottom. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (file: string) => (file === PROJECT_FILE ? '' : file);
  const byFile = (a: string, b: string) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0);
  return [...issues].sort((a, b) => byFile(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
