// Every statement the runner sends to a warehouse for one representative model and sync, built by
// the same builders (and, for migrations and locks, the runner's own functions against a recording
// warehouse), per dialect. The golden test pins them and parses them.
import type { IdentifierKind, IdentifierRule } from '../../src/core/identifiers.js';
import type { ModelDef } from '../../src/core/manifest.js';
import { AUDSYNC_VERSION } from '../../src/core/version.js';
import { dataManagerCapabilities } from '../../src/platforms/google/capabilities.js';
import { metaCapabilities } from '../../src/platforms/meta/capabilities.js';
import { acquireLock, lockHolder, releaseLock } from '../../src/runner/lock.js';
import { migrate } from '../../src/runner/state.js';
import { finishRunSql, insertRunSql, invalidIdentifiersSql } from '../../src/warehouse/sql/audit.js';
import { candidateSql, duplicateKeysSql, keyCheckSql, modelSubquery, recordHoldoutsSql, type NormalizedIdentifier } from '../../src/warehouse/sql/candidate.js';
import { cleanMasksSql } from '../../src/warehouse/sql/source.js';
import { commitSql } from '../../src/warehouse/sql/commit.js';
import { audienceSizeSql, deltaCountsSql, deltaSql, type SyncSqlSpec } from '../../src/warehouse/sql/delta.js';
import { partCountsSql, partsSql } from '../../src/warehouse/sql/parts.js';
import { memberCountsSql } from '../../src/warehouse/sql/members.js';
import { literal, sqlDialect, type SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { stateTables } from '../../src/warehouse/sql/names.js';
import { encodedBatchesSql, heldBackRowsSql, holdBackAddsSql, memberResultsSql, resultCountsSql, rowsToSendSql, sendSpanSql } from '../../src/warehouse/sql/outcome.js';
import type { Dialect, Row, Warehouse, WarehouseCapabilities } from '../../src/warehouse/warehouse.js';

export const DIALECTS: Dialect[] = ['duckdb', 'postgres', 'bigquery', 'snowflake'];
/** What each engine's warehouse reports as its catalog, so state tables are qualified as in a run. */
export const CATALOG: Record<Dialect, string | undefined> = { duckdb: 'audsync', postgres: undefined, bigquery: 'acme-dwh', snowflake: 'ANALYTICS' };
export const NOW = '2026-03-01T10:00:00.000Z';
const SCHEMA = 'audsync';

export const model: ModelDef = {
  name: 'buyers',
  file: 'models/buyers.yml',
  tags: [],
  sql: `SELECT customer_id, email, phone, first_name, last_name, postal_code, country_code, mobile_ad_id, consent, updated_at
FROM crm.customers
WHERE last_order_at >= '2026-01-01'; -- recent buyers`,
  key: 'customer_id',
  identifiers: {
    email: 'email', phone: 'phone', first_name: 'first_name', last_name: 'last_name', zip: 'postal_code',
    country: 'country_code', maid: 'mobile_ad_id', external_id: 'customer_id',
  },
  consent: 'consent',
  updatedAt: 'updated_at',
  holdout: { percent: 10, salt: 'spring-2026' },
  syncs: [],
};

// The Meta sync (every kind the model maps), plus a second platform's rules so the candidate
// table carries every normalizer the builders have.
const KINDS: IdentifierKind[] = ['email', 'phone', 'first_name', 'last_name', 'zip', 'country', 'maid', 'external_id'];
const metaIds = KINDS.map((kind) => ({ kind, rule: metaCapabilities.identifiers[kind]! }));
const googleRules: Partial<Record<IdentifierKind, IdentifierRule>> = dataManagerCapabilities.identifiers;
const googleIds = Object.entries(googleRules).map(([kind, rule]) => ({ kind: kind as IdentifierKind, rule: rule! }));
export const candidateIds: NormalizedIdentifier[] = [...metaIds, ...googleIds];

export const spec: SyncSqlSpec = {
  syncId: 'buyers__meta',
  index: 0,
  model: 'buyers',
  mode: 'mirror',
  identifiers: metaIds,
  freshStart: false,
  resendAll: false,
  sourceFingerprint: true,
  // Reads what changed from the joined candidate; the Google sync below joins the snapshot itself
  // (as after a whole rebuild), so both deltas are pinned.
  snapshotJoined: true,
};

/** The Google sync of the same model: its address (names, region, postal code) tracked as one identifier. */
export const googleSpec: SyncSqlSpec = {
  syncId: 'buyers__google',
  index: 1,
  model: 'buyers',
  mode: 'mirror',
  identifiers: googleIds,
  address: dataManagerCapabilities.address,
  freshStart: false,
  resendAll: false,
  sourceFingerprint: true,
};

const RUN_ID = 'run-1';

/** A warehouse that answers every query with no rows and records what it is sent. */
class RecordingWarehouse implements Warehouse {
  readonly sent: string[] = [];
  constructor(
    readonly capabilities: WarehouseCapabilities,
    readonly catalog: string | undefined,
  ) {}
  async execute(sql: string): Promise<void> {
    this.sent.push(sql);
  }
  async query<T = Row>(sql: string): Promise<T[]> {
    this.sent.push(sql);
    return [];
  }
  async columns(): Promise<string[]> {
    return [];
  }
  async *stream<T = Row>(): AsyncIterable<T[]> {}
  transaction<T>(work: (tx: Warehouse) => Promise<T>): Promise<T> {
    return work(this);
  }
  async insertRows(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Text that differs between machines or releases, replaced so the golden files are stable. */
function stable(sql: string): string {
  return sql
    .split(lockHolder())
    .join('host:1234')
    .split(`'${AUDSYNC_VERSION}'`)
    .join("'0.0.0-golden'")
    .split(`audsync ${AUDSYNC_VERSION}|`) // in source fingerprints (source.ts)
    .join('audsync 0.0.0-golden|');
}

async function recorded(d: SqlDialect, transactionalDdl: boolean, run: (wh: Warehouse) => Promise<unknown>): Promise<string[]> {
  const wh = new RecordingWarehouse({ dialect: d.name, transactionalDdl, merge: true, maxIdentifierLength: 255, tempTables: true, rangeReads: true }, CATALOG[d.name]);
  await run(wh);
  return wh.sent.map(stable);
}

/** Step name -> the statements of that step, in the order the runner sends them. Needs Date frozen at NOW. */
export async function statementsFor(name: Dialect): Promise<Record<string, string[]>> {
  if (new Date().toISOString() !== NOW) throw new Error('freeze Date at NOW first');
  const d = sqlDialect(name);
  const t = stateTables(d, SCHEMA, CATALOG[name]);
  const commit = { runId: RUN_ID, nowIso: NOW, destination: 'meta', platform: 'meta_custom_audiences', audienceId: '23851234567890' };
  return {
    migrations: await recorded(d, name === 'duckdb' || name === 'postgres', (wh) => migrate(wh, d, SCHEMA)),
    lock: await recorded(d, false, async (wh) => {
      await acquireLock(wh, d, t, spec.syncId, RUN_ID);
      await releaseLock(wh, d, t, spec.syncId, RUN_ID);
    }),
    // As the runner builds it: skipping members whose source rows match both syncs' snapshots;
    // and whole, for a sync that sends every member.
    candidate: [candidateSql(d, model, candidateIds, { defaultRegion: 'US', syncs: [spec, googleSpec], snapshots: t.snapshots })],
    candidate_whole: [candidateSql(d, model, candidateIds, { defaultRegion: 'US', syncs: [spec, googleSpec] })],
    key_checks: [
      keyCheckSql(d, model.name, [spec, googleSpec], { index: spec.index, syncId: spec.syncId, snapshots: t.snapshots, model: modelSubquery(model) }),
      cleanMasksSql(d, model.name, [spec, googleSpec], t.snapshots),
      duplicateKeysSql(d, model),
    ],
    holdouts: [recordHoldoutsSql(d, model, t.holdouts, NOW)],
    audit_insert: [
      insertRunSql(d, t, {
        run_id: RUN_ID, invocation_id: 'invocation-1', sync_id: spec.syncId, model: 'buyers', destination: 'meta', mode: 'mirror',
        target: 'prod', started_at: NOW, model_sql_sha256: 'a'.repeat(64), audsync_version: '0.0.0-golden', full_refresh: false,
      }),
    ],
    member_counts: [memberCountsSql(d, spec)],
    delta: [deltaSql(d, spec, t.snapshots)],
    parts: [partsSql(d, spec, t.snapshots)],
    counts: [deltaCountsSql(d, spec), partCountsSql(d, spec), audienceSizeSql(d, spec, t.snapshots)],
    hold_back_adds: [holdBackAddsSql(d, spec, t.deliveries, RUN_ID, NOW)],
    rows_to_send: [rowsToSendSql(d, spec, 'remove', t.deliveries, RUN_ID).sql, rowsToSendSql(d, spec, 'add', t.deliveries, RUN_ID).sql],
    encoded_batches: [
      ...(d.rangeIndex ? [d.rangeIndex('_audsync_parts_0', 'row_id')] : []),
      sendSpanSql(d, spec, 'add'),
      heldBackRowsSql(d, spec, 'add', t.deliveries, RUN_ID),
      // As a run sends them when it holds no row back (almost always), then when it holds some.
      encodedBatchesSql(d, spec, 'add', t.deliveries, RUN_ID, { from: 1001, to: 81000 }, 10_000, false),
      encodedBatchesSql(d, spec, 'add', t.deliveries, RUN_ID, { from: 1001, to: 81000 }, 10_000, true),
    ],
    member_results: [memberResultsSql(d, spec, t.deliveries, RUN_ID, 'not sent'), resultCountsSql(d, spec)],
    commit: commitSql(d, spec, t, commit),
    audit_finish: [
      finishRunSql(d, t, RUN_ID, {
        status: 'partial', finished_at: NOW, audience_id: '23851234567890', members: 1200, added: 10, removed: 2, changed: 1, failed: 3,
        invalid: 7, held_out: 120, no_consent: 4, rows_sent: 11, requests: 2,
        // A message as the runner writes them: with an apostrophe.
        error_message: "blocked by guardrails: would remove 2 of 10 members (check the model's data, or run with --force)",
      }),
    ],
    invalid_identifiers: [invalidIdentifiersSql(d, t, RUN_ID, spec.syncId, { email: { present: 1200, invalid: 7 }, phone: { present: 900, invalid: 31 } })!],
    // The steps whose SQL differs for a sync with an address (Google): the rest is the Meta sync's.
    google_delta: [deltaSql(d, googleSpec, t.snapshots)],
    google_parts: [partsSql(d, googleSpec, t.snapshots)],
    google_rows_to_send: [rowsToSendSql(d, googleSpec, 'remove', t.deliveries, RUN_ID).sql, rowsToSendSql(d, googleSpec, 'add', t.deliveries, RUN_ID).sql],
    google_commit: commitSql(d, googleSpec, t, { ...commit, destination: 'google', platform: 'google_customer_match', audienceId: '7777777777' }),
  };
}
