// Per model, once per run: check the query's columns, build the candidate table, check the key.
import { ModelError, WarehouseError } from '../core/errors.js';
import type { ConsentSignal, ModelDef } from '../core/manifest.js';
import { candidateSql, duplicateKeysSql, keyCheckSql, modelSubquery, recordHoldoutsSql, syncCountsOf, type NormalizedIdentifier } from '../warehouse/sql/candidate.js';
import type { SyncSqlSpec } from '../warehouse/sql/delta.js';
import { cleanCounts, cleanMasksSql } from '../warehouse/sql/source.js';
import type { RunContext } from './context.js';

export interface ModelCounts {
  rows: number;
  /** Rows normalized this run; the others' source rows had not changed since their last sync. */
  normalized: number;
  /** plan only, where the engine can tell: bytes the candidate query scans. */
  bytesEstimated?: number;
}

export async function materializeModel(
  ctx: RunContext,
  model: ModelDef,
  identifiers: NormalizedIdentifier[],
  nowIso: string,
  signals: ConsentSignal[] = [],
  specs: SyncSqlSpec[] = [],
): Promise<ModelCounts> {
  const { warehouse, dialect } = ctx;
  const columns = await withModel(model, () => warehouse.columns(modelSubquery(model)));
  checkColumns(model, columns);
  const defaultRegion = ctx.manifest.project.defaults.defaultCountry;
  // Members whose source rows match every sync's snapshot are not normalized again, except with
  // --full-refresh, which sends every member (source.ts).
  const incremental = !ctx.options.fullRefresh && specs.length > 0;
  const options = { defaultRegion, signals, syncs: specs };
  const candidate = candidateSql(dialect, model, identifiers, incremental ? { ...options, snapshots: ctx.tables.snapshots } : options);
  if (incremental) ctx.partialCandidates.set(model.name, candidateSql(dialect, model, identifiers, options));
  const bytesEstimated = await withModel(model, () => estimateBytes(ctx, candidate));
  await withModel(model, () => warehouse.execute(candidate));

  const joined = incremental ? { index: specs[0]!.index, syncId: specs[0]!.syncId, snapshots: ctx.tables.snapshots, model: modelSubquery(model) } : undefined;
  const [check] = await withModel(model, () =>
    warehouse.query<{ row_count: number; null_keys: number; distinct_keys: number; normalized_rows: number }>(keyCheckSql(dialect, model.name, specs, joined)),
  );
  // Members left out as unchanged count as their snapshots say (source.ts).
  const groups = incremental ? await warehouse.query(cleanMasksSql(dialect, model.name, specs, ctx.tables.snapshots)) : [];
  for (const spec of specs) ctx.memberCounts.set(spec.index, cleanCounts(syncCountsOf(check ?? {}, spec.index), spec, groups));
  const rows = Number(check?.row_count ?? 0);
  const normalized = Number(check?.normalized_rows ?? 0);
  const nullKeys = Number(check?.null_keys ?? 0);
  if (nullKeys > 0) {
    throw new ModelError(model.name, `${nullKeys.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows have a NULL key (column '${model.key}')`, {
      hint: `filter them out in ${model.sqlFile ?? model.file} (WHERE ${model.key} IS NOT NULL) or choose another key`,
    });
  }
  if (Number(check?.distinct_keys ?? 0) < rows - nullKeys) {
    const dupes = await withModel(model, () => warehouse.query<{ member_key: string; occurrences: number }>(duplicateKeysSql(dialect, model)));
    const example = dupes.map((r) => `'${r.member_key}' (${r.occurrences} rows)`).join(', ');
    throw new ModelError(model.name, `key column '${model.key}' is not unique: ${example}`, {
      hint: `the query must return one row per ${model.key}; aggregate or use DISTINCT in ${model.sqlFile ?? model.file}`,
    });
  }
  if (model.holdout && ctx.options.command === 'run') {
    await warehouse.execute(recordHoldoutsSql(dialect, model, ctx.tables.holdouts, nowIso));
  }
  return { rows, normalized, bytesEstimated };
}

/** In plan, the bytes a statement would scan when the engine can say (BigQuery's dry run). */
export async function estimateBytes(ctx: RunContext, sql: string): Promise<number | undefined> {
  if (ctx.options.command !== 'plan' || !ctx.warehouse.estimateBytes) return undefined;
  return ctx.warehouse.estimateBytes(sql);
}

function checkColumns(model: ModelDef, columns: string[]): void {
  const have = new Set(columns);
  const wanted: [string, string][] = [
    ['key', model.key],
    ...Object.entries(model.identifiers).map(([kind, column]) => [`identifiers.${kind}`, column!] as [string, string]),
    ...(model.consent ? [['consent', model.consent] as [string, string]] : []),
    ...(model.updatedAt ? [['updated_at', model.updatedAt] as [string, string]] : []),
  ];
  const missing = wanted.filter(([, column]) => !have.has(column));
  if (missing.length > 0) {
    throw new ModelError(
      model.name,
      `${missing.map(([field, column]) => `${field} names column '${column}'`).join(', ')}, but the query returns no such column (it returns: ${columns.join(', ')})`,
      { hint: `fix ${model.file} or the query in ${model.sqlFile ?? model.file}` },
    );
  }
}

/** Warehouse errors in a model's SQL name the model. */
async function withModel<T>(model: ModelDef, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WarehouseError) {
      throw new ModelError(model.name, `its SQL failed on ${error.engine}: ${error.message.replace(/^[a-z]+: /, '')}`, {
        hint: `fix the query in ${model.sqlFile ?? model.file}; \`audsync compile\` prints the SQL that ran`,
        cause: error,
      });
    }
    throw error;
  }
}
