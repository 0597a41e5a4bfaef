// Names of state tables and of the run's scratch (temp) tables.
import type { IdentifierKind } from '../../core/identifiers.js';
import type { SqlDialect } from './dialect.js';

export interface StateTables {
  runs: string;
  changes: string;
  snapshots: string;
  holdouts: string;
  locks: string;
  deliveries: string;
  retries: string;
  syncState: string;
  migrations: string;
  invalidIdentifiers: string;
}

/** The state schema, qualified by its catalog when there is one. */
export function schemaRef(d: SqlDialect, schema: string, catalog?: string): string {
  return catalog ? `${d.quoteIdent(catalog)}.${d.quoteIdent(schema)}` : d.quoteIdent(schema);
}

export function stateTables(d: SqlDialect, schema: string, catalog?: string): StateTables {
  const q = (t: string) => `${schemaRef(d, schema, catalog)}.${t}`;
  return {
    runs: q('audsync_runs'),
    changes: q('audsync_changes'),
    snapshots: q('audsync_snapshots'),
    holdouts: q('audsync_holdouts'),
    locks: q('audsync_locks'),
    deliveries: q('audsync_deliveries'),
    retries: q('audsync_retries'),
    syncState: q('audsync_sync_state'),
    migrations: q('audsync_migrations'),
    invalidIdentifiers: q('audsync_invalid_identifiers'),
  };
}

export const scratch = {
  candidate: (model: string) => `_audsync_candidate_${model}`,
  delta: (index: number) => `_audsync_delta_${index}`,
  parts: (index: number) => `_audsync_parts_${index}`,
  result: (index: number) => `_audsync_result_${index}`,
};

/** Snapshot column holding what was sent for a kind. */
export const snapshotColumn = (kind: IdentifierKind) => `${kind}_hash`;
/** Candidate column: the model has a value for this kind (valid or not). */
export const presentColumn = (kind: IdentifierKind) => `p_${kind}`;
/** Candidate column holding a kind normalized by one rule. */
export const normalizedColumn = (kind: IdentifierKind, normalizer: string) => `n_${kind}__${normalizer}`;
