// destinations/<name>.yml: `name` and `type` are ours; everything else belongs to the platform
// and is validated by its own schema, after ${VAR} interpolation.
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import type { DestinationDef } from '../core/manifest.js';
import { loadPlatformConfigSpec, plannedPlatformTypes, platformTypes } from '../platforms/registry.js';
import { baseUrlProblem } from './base-url.js';
import { hasReference, interpolateConfig } from './env.js';
import { nameSchema } from './names.js';
import { issueAt, valueAt } from './positions.js';
import { validate } from './zod-issues.js';
import { fileStem, type YamlSource } from './yaml-file.js';

export interface DestinationDraft {
  /** Whatever name the file gives, valid or not, so syncs naming it are not reported twice. */
  name: string;
  /** Undefined when the file has a problem. */
  def?: DestinationDef;
}

export interface DestinationContext {
  env: NodeJS.ProcessEnv;
  /** The active target's flag; undefined when it is unknown, and then unset secrets are not reported. */
  sandbox: boolean | undefined;
}

export async function loadDestination(src: YamlSource, context: DestinationContext, issues: ConfigIssue[]): Promise<DestinationDraft> {
  const before = issues.length;
  const { name, type, ...options } = src.data;
  const fallbackName = fileStem(src.file);
  const validName = validate(z.object({ name: nameSchema }), { name }, src, issues, { missingHints: { name: `add name: ${fallbackName}` } });

  const spec = await platformSpec(src, type, issues);
  let config: Record<string, unknown> | undefined;
  if (spec) {
    const { value: data, reported } = interpolateConfig(
      options,
      {
        src,
        prefix: [],
        env: context.env,
        secretFields: spec.secretFields,
        resolve: true,
        sandbox: context.sandbox ?? true,
        varPrefix: typeof name === 'string' ? name : fallbackName,
      },
      issues,
    );
    config = validate(spec.schema, data, src, issues, { ignore: (path) => reported.has(path.join('.')) }) as
      | Record<string, unknown>
      | undefined;
    if (spec.baseUrlField) {
      const path = spec.baseUrlField.split('.');
      const url = valueAt(data, path);
      // Unparsable URLs and unset ${VAR}s are already reported by the schema and interpolation.
      if (typeof url === 'string' && !hasReference(url) && URL.canParse(url)) {
        const problem = baseUrlProblem(url);
        if (problem) issues.push(issueAt(src, path, problem));
      }
    }
  }

  const draft: DestinationDraft = { name: typeof name === 'string' ? name : fallbackName };
  if (validName && spec && config && issues.length === before) {
    draft.def = { name: validName.name, type: spec.type, file: src.file, config };
  }
  return draft;
}

async function platformSpec(src: YamlSource, type: unknown, issues: ConfigIssue[]) {
  const available = platformTypes();
  const known = available.join(', ');
  if (typeof type !== 'string') {
    const message = type === undefined ? `missing required field 'type'; add type: one of ${known}` : `expected a string, one of ${known}`;
    issues.push(issueAt(src, ['type'], message));
    return undefined;
  }
  if (available.includes(type)) return loadPlatformConfigSpec(type);
  const message = plannedPlatformTypes.includes(type)
    ? `type '${type}' is not available yet in this version of audsync; available types: ${known}`
    : `unknown destination type '${type}'; known types: ${known}`;
  issues.push(issueAt(src, ['type'], message));
  return undefined;
}
