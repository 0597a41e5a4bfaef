// --select and --vars: how the CLI narrows a manifest. Mistakes here are usage errors (exit 2).
import { UsageError } from '../core/errors.js';
import type { Manifest, SyncDef } from '../core/manifest.js';

const LISTED_NAMES = 10;

/**
 * Comma-separated terms: a model name, `tag:<tag>`, `destination:<name>` or a sync id. The result
 * is the union, in manifest order. A term naming something that exists but has no syncs selects
 * nothing; a term naming nothing at all is a mistake.
 */
export function selectSyncs(manifest: Manifest, selector?: string): SyncDef[] {
  const terms = (selector ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length === 0) return [...manifest.syncs];

  const tagsOf = new Map(manifest.models.map((m) => [m.name, m.tags]));
  const selected = new Set<SyncDef>();
  const unknown: string[] = [];
  for (const term of terms) {
    let known: boolean;
    let matches: (sync: SyncDef) => boolean;
    if (term.startsWith('tag:')) {
      const tag = term.slice('tag:'.length);
      known = manifest.models.some((m) => m.tags.includes(tag));
      matches = (s) => tagsOf.get(s.model)?.includes(tag) ?? false;
    } else if (term.startsWith('destination:')) {
      const name = term.slice('destination:'.length);
      known = manifest.destinations.some((d) => d.name === name);
      matches = (s) => s.destination === name;
    } else {
      known = manifest.models.some((m) => m.name === term) || manifest.syncs.some((s) => s.id === term);
      matches = (s) => s.model === term || s.id === term;
    }
    if (!known) unknown.push(term);
    for (const sync of manifest.syncs) if (matches(sync)) selected.add(sync);
  }
  if (unknown.length > 0) {
    const quoted = unknown.map((t) => `'${t}'`).join(', ');
    const models = shortList(manifest.models.map((m) => m.name));
    throw new UsageError(`--select ${quoted} matches no model, tag, destination or sync; models: ${models}`, {
      hint: 'use model names, tag:<tag>, destination:<name> or sync ids, comma-separated',
    });
  }
  return manifest.syncs.filter((s) => selected.has(s));
}

function shortList(names: string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, LISTED_NAMES).join(', ');
  return names.length > LISTED_NAMES ? `${shown} and ${names.length - LISTED_NAMES} more` : shown;
}

/** --vars '{"purchase_window_days": 7}': a JSON object whose values win over audsync.yml's vars. */
export function parseVars(json: string): Record<string, unknown> {
  const example = `--vars '{"purchase_window_days": 7}'`;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--vars is not valid JSON: ${(error as Error).message}`, { hint: `pass a JSON object, e.g. ${example}` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('--vars must be a JSON object', { hint: `pass a JSON object, e.g. ${example}` });
  }
  return value as Record<string, unknown>;
}
