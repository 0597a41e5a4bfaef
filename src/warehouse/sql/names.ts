// Names of state tables and of the run's scratch (temp) tables.
import { createHash } from 'node:crypto';
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
  platformReports: string;
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
    platformReports: q('audsync_platform_reports'),
  };
}

// Postgres keeps the first 63 bytes of a name and drops the rest without an error, so two long
// model names could share one scratch table. A longer name keeps its first 50 characters and a hash
// of the whole (names are ASCII: a character is a byte).
const MAX_NAME = 63;
const fit = (name: string) => (name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 13)}_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`);

export const scratch = {
  candidate: (model: string) => fit(`_audsync_candidate_${model}`),
  delta: (index: number) => `_audsync_delta_${index}`,
  parts: (index: number) => `_audsync_parts_${index}`,
  result: (index: number) => `_audsync_result_${index}`,
};

/** Snapshot column holding what was sent for a kind. */
export const snapshotColumn = (kind: IdentifierKind) => `${kind}_hash`;
/** Candidate column: a member's consent signal as 'GRANTED', 'DENIED' or NULL (unspecified). */
export const signalColumn = (signal: string) => `cs_${signal}`;
/** Candidate column: the model has a value for this kind (valid or not). */
export const presentColumn = (kind: IdentifierKind) => `p_${kind}`;
/** Candidate column holding a kind normalized by one rule. */
export const normalizedColumn = (kind: IdentifierKind, normalizer: string) => `n_${kind}__${normalizer}`;
/**
 * Candidate column: the sync's source fingerprint for the member, a 64-bit hash of the raw columns
 * the sync reads and of how it reads them (candidate.ts). Equal to the snapshot's: nothing to redo.
 */
export const sourceFingerprintColumn = (index: number) => `sfp_${index}`;
/** Candidate column: TRUE when the row's identifiers were normalized this run (normalized columns set). */
export const NORMALIZED = 'normalized';
/** Candidate column: the row is one of the model's (FALSE: a snapshot's member gone from it). */
export const IN_MODEL = 'in_model';
/** Candidate columns of an incremental candidate, per sync (candidate.ts): the sync's snapshot holds the member, */
export const heldColumn = (index: number) => `held_${index}`;
/** its source fingerprint equals the row's (the member is unchanged for the sync), */
export const cleanColumn = (index: number) => `clean_${index}`;
/** and its fingerprint of normalized values (compared when the source changed). */
export const snapshotFingerprintColumn = (index: number) => `snap_fp_${index}`;
/** The three above, as the candidate carries them. */
export const joinedColumns = (index: number) => [heldColumn(index), cleanColumn(index), snapshotFingerprintColumn(index)];
/** Candidate column of an incremental candidate: the sync's snapshot's kinds_mask (source.ts). */
export const kindsMaskColumn = (index: number) => `kinds_mask_${index}`;
