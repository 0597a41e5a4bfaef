// The validated project: what config/ produces from audsync.yml, models/ and destinations/,
// and what the planner and runner read. Plain data, no behaviour.
import type { IdentifierKind } from './identifiers.js';

export type SyncMode = 'mirror' | 'add_only';

/** Per-member consent signals a platform may take (Google: adUserData, adPersonalization). */
export const CONSENT_SIGNALS = ['ad_user_data', 'ad_personalization'] as const;
export type ConsentSignal = (typeof CONSENT_SIGNALS)[number];

export interface Guardrails {
  maxRemovePercent?: number; // removals as a % of the audience's current size
  maxAddPercent?: number; // additions as a % of the audience's current size (ignored on a first sync)
  minMembers?: number; // the model must have at least this many eligible members
}

export interface WarehouseConfig {
  type: string; // 'duckdb' | 'postgres' | 'bigquery' | 'snowflake'; options below are the engine's own
  [option: string]: unknown;
}

export interface TargetConfig {
  name: string;
  warehouse: WarehouseConfig;
  sandbox: boolean; // every destination talks to the built-in local simulators
}

export interface Defaults {
  mode: SyncMode;
  defaultCountry: string;
  maxAttempts: number;
  guardrails: Guardrails;
}

export interface ProjectConfig {
  name: string;
  projectDir: string; // absolute
  file: string; // 'audsync.yml'
  target: TargetConfig;
  stateSchema: string;
  vars: Record<string, unknown>;
  defaults: Defaults;
}

export interface AudienceRef {
  id?: string;
  name?: string;
}

export interface SyncDef {
  id: string; // '<model>__<destination>' unless named
  model: string;
  destination: string;
  audience: AudienceRef;
  mode: SyncMode;
  guardrails: Guardrails; // defaults merged with the sync's overrides
  maxAttempts: number;
  file: string; // the model file that declares it
}

export interface ModelDef {
  name: string;
  file: string; // 'models/recent_purchasers.yml'
  description?: string;
  owner?: string;
  tags: string[];
  sql: string; // rendered: vars substituted, refs inlined
  rawSql?: string; // as written (inline or the .sql file), before templating
  sqlFile?: string; // 'models/recent_purchasers.sql' when the SQL lives beside the YAML
  key: string;
  identifiers: Partial<Record<IdentifierKind, string>>; // kind -> column of the query
  consent?: string;
  /** Columns with each member's consent signals (boolean, or 'granted'/'denied'), sent where a platform takes them. */
  consentSignals?: Partial<Record<ConsentSignal, string>>;
  updatedAt?: string;
  holdout?: { percent: number; salt: string };
  syncs: SyncDef[];
}

export interface DestinationDef {
  name: string;
  type: string;
  file: string;
  /** The platform's own options, validated by its schema, ${ENV} already interpolated. */
  config: Record<string, unknown>;
}

export interface Manifest {
  project: ProjectConfig;
  models: ModelDef[];
  destinations: DestinationDef[];
  syncs: SyncDef[];
}
