// models/<name>.yml: one file's own checks, its SQL (inline or a .sql file beside it), and the
// ModelDef once the cross-file checks in load.ts have passed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue } from '../core/errors.js';
import type { Defaults, ModelDef, SyncDef } from '../core/manifest.js';
import { modelSchema, syncSchema, type ModelFile, type SyncFile } from './model-schema.js';
import { issueAt, textPosition } from './positions.js';
import { toGuardrails } from './project.js';
import type { ModelSql } from './template.js';
import { validate } from './zod-issues.js';
import type { YamlSource } from './yaml-file.js';

export interface ModelDraft {
  src: YamlSource;
  /** Whatever name the file gives, valid or not, for uniqueness and ref() checks. */
  name?: string;
  /** Undefined when the file has a problem of its own. */
  parsed?: ModelFile;
  /** The syncs that are valid on their own, even when the rest of the file is not. */
  syncs: { index: number; sync: SyncFile }[];
  sql?: ModelSql & { file?: string };
}

const MISSING_HINTS = {
  name: 'add name: <model name>',
  sql: 'add sql: | followed by the query, or sql: <file>.sql beside this file',
  key: 'add key: <column> (the unique, non-null member key of the query)',
  identifiers: 'add identifiers: { email: <column> } (identifier kind -> column)',
  destination: 'add destination: <name of a file in destinations/>',
  audience: 'add audience: { name: "..." } or audience: { id: "..." }',
  percent: 'add percent: <between 0 and 100>',
  salt: 'add salt: "<any text>"',
};

export async function loadModelFile(projectDir: string, src: YamlSource, issues: ConfigIssue[]): Promise<ModelDraft> {
  const parsed = validate(modelSchema, src.data, src, issues, {
    missingHints: MISSING_HINTS,
    keyNouns: { identifiers: 'identifier kind' },
  });
  const name = typeof src.data.name === 'string' ? src.data.name : undefined;
  const rawSyncs = Array.isArray(src.data.syncs) ? src.data.syncs : [];
  const syncs = parsed
    ? parsed.syncs.map((sync, index) => ({ index, sync }))
    : rawSyncs.flatMap((raw, index) => {
        const result = syncSchema.safeParse(raw);
        return result.success ? [{ index, sync: result.data }] : [];
      });
  const draft: ModelDraft = { src, syncs };
  if (name !== undefined) draft.name = name;
  if (parsed) draft.parsed = parsed;
  if (name !== undefined && typeof src.data.sql === 'string') {
    const sql = await readSql(projectDir, src, name, src.data.sql, issues);
    if (sql) draft.sql = sql;
  }
  return draft;
}

/** A single line without spaces ending in .sql names a file; anything else is the query itself. */
function isSqlFileName(value: string): boolean {
  return /^[^\s]+\.sql$/i.test(value.trim());
}

async function readSql(projectDir: string, src: YamlSource, model: string, value: string, issues: ConfigIssue[]) {
  if (!isSqlFileName(value)) {
    return { model, sql: value, issueAt: (_offset: number, message: string) => issueAt(src, ['sql'], message) };
  }
  const file = path.posix.normalize(path.posix.join(path.posix.dirname(src.file), value.trim()));
  let text: string;
  try {
    text = await readFile(path.join(projectDir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    issues.push(issueAt(src, ['sql'], `SQL file ${file} not found; create it beside this file or write the query inline with sql: |`));
    return undefined;
  }
  return {
    model,
    sql: text,
    file,
    issueAt: (offset: number, message: string): ConfigIssue => ({ file, path: '', message, ...textPosition(text, offset) }),
  };
}

export function buildModel(draft: ModelDraft, parsed: ModelFile, sql: string, defaults: Defaults): ModelDef {
  const model: ModelDef = {
    name: parsed.name,
    file: draft.src.file,
    tags: parsed.tags,
    sql,
    rawSql: draft.sql!.sql,
    key: parsed.key,
    identifiers: parsed.identifiers,
    syncs: parsed.syncs.map((sync) => buildSync(parsed.name, sync, draft.src.file, defaults)),
  };
  if (draft.sql?.file) model.sqlFile = draft.sql.file;
  if (parsed.description !== undefined) model.description = parsed.description;
  if (parsed.owner !== undefined) model.owner = parsed.owner;
  if (parsed.consent !== undefined) model.consent = parsed.consent;
  if (parsed.consent_signals) {
    const signals: NonNullable<ModelDef['consentSignals']> = {};
    if (parsed.consent_signals.ad_user_data) signals.ad_user_data = parsed.consent_signals.ad_user_data;
    if (parsed.consent_signals.ad_personalization) signals.ad_personalization = parsed.consent_signals.ad_personalization;
    model.consentSignals = signals;
  }
  if (parsed.updated_at !== undefined) model.updatedAt = parsed.updated_at;
  if (parsed.holdout) model.holdout = { percent: parsed.holdout.percent, salt: parsed.holdout.salt };
  return model;
}

export function syncId(model: string, sync: SyncFile): string {
  return sync.name ?? `${model}__${sync.destination}`;
}

function buildSync(model: string, sync: SyncFile, file: string, defaults: Defaults): SyncDef {
  return {
    id: syncId(model, sync),
    model,
    destination: sync.destination,
    audience: sync.audience.id !== undefined ? { id: sync.audience.id } : { name: sync.audience.name! },
    mode: sync.mode ?? defaults.mode,
    guardrails: { ...defaults.guardrails, ...toGuardrails(sync.guardrails ?? {}) },
    maxAttempts: sync.max_attempts ?? defaults.maxAttempts,
    file,
  };
}
