// After delivery: which rows the platform accepted, which members that makes synced, and the SQL that
// streams rows to send. Outcomes are recorded as ranges of row ids (one per request) plus single-row
// rejections, so even a 10M-row first sync writes only a few thousand outcome rows.
import { literal, type SqlDialect } from './dialect.js';
import { scratch } from './names.js';
import type { SyncSqlSpec } from './delta.js';

/**
 * Holds back the add rows of members whose removal failed, recording each as failed before any add
 * is sent: a member changing identifiers must not gain new ones at the platform while its old ones
 * could not be removed (the snapshot describes the old state or the new, never both). Recorded as
 * outcomes, held-back rows also stay failed when a sent request's row range spans them.
 */
export function holdBackAddsSql(d: SqlDialect, spec: SyncSqlSpec, deliveries: string, runId: string, nowIso: string): string {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  return `INSERT INTO ${deliveries} (run_id, sync_id, op, first_row_id, last_row_id, row_count, status, attempts, error_code, error_message, finished_at)
SELECT DISTINCT ${literal(d, runId)}, ${literal(d, spec.syncId)}, 'add', a.row_id, a.row_id, 1, 'failed', 0, 'held_back',
  'not sent: the old identifiers of a member sharing this row could not be removed', ${d.timestamp(nowIso)}
FROM ${parts} a
JOIN ${parts} r ON r.member_key = a.member_key AND r.op = 'remove'
JOIN (${rowOutcomesSql(d, spec, deliveries, runId)}) ro ON ro.row_id = r.row_id
WHERE a.op = 'add' AND NOT ro.ok`;
}

/** After a completed replace session, the leavers' removal rows are done: the replace dropped them. */
export function coverRemovalsSql(d: SqlDialect, spec: SyncSqlSpec, deliveries: string, runId: string, nowIso: string): string {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  return `INSERT INTO ${deliveries} (run_id, sync_id, op, first_row_id, last_row_id, row_count, status, attempts, error_code, error_message, finished_at)
SELECT ${literal(d, runId)}, ${literal(d, spec.syncId)}, 'remove', min(row_id), max(row_id), count(DISTINCT row_id), 'sent', 1, NULL,
  'removed by the replace session', ${d.timestamp(nowIso)}
FROM ${parts} WHERE op = 'remove'
HAVING count(*) > 0`;
}

/**
 * Every row of these ops fails in this run (a platform never applied what it staged), with the
 * platform's code for why when there is one (CONCURRENT_MODIFICATION), else 'not_applied'.
 */
export function failRowsSql(
  d: SqlDialect,
  spec: SyncSqlSpec,
  deliveries: string,
  runId: string,
  ops: string[],
  reason: string,
  nowIso: string,
  code = 'not_applied',
): string {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  const partOps = [...new Set(ops.map((op) => (op === 'replace' ? 'add' : op)))].map((op) => literal(d, op)).join(', ');
  return `INSERT INTO ${deliveries} (run_id, sync_id, op, first_row_id, last_row_id, row_count, status, attempts, error_code, error_message, finished_at)
SELECT ${literal(d, runId)}, ${literal(d, spec.syncId)}, op, min(row_id), max(row_id), count(DISTINCT row_id), 'failed', 1, ${literal(d, code)},
  ${literal(d, reason)}, ${d.timestamp(nowIso)}
FROM ${parts} WHERE op IN (${partOps || "''"})
GROUP BY op`;
}

/** Joins the hashed values of one row in rowsToSendSql: hex digits never contain it. */
export const PACK_SEPARATOR = '\u001f';

export interface RowsToSend {
  sql: string;
  /** The kinds packed into the `packed` column, in order (see unpackRows). */
  packed: string[];
}

/**
 * The rows of one op to send, in row_id order, skipping rows held back in this run. Every hashed
 * kind's value travels in one column, `packed` (kinds in order, NULL as ''), so one string per row
 * crosses the driver instead of one per value: DuckDB's Node driver pays a native call per string,
 * which made streaming 10M rows cost more than sending them (bench/). Kinds sent in plain text,
 * which may contain any character, stay columns of their own.
 */
export function rowsToSendSql(d: SqlDialect, spec: SyncSqlSpec, op: 'add' | 'remove', deliveries: string, runId: string): RowsToSend {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  const packed = spec.identifiers.filter((i) => i.rule.encoding === 'sha256').map((i) => i.kind as string);
  const plain = spec.identifiers.filter((i) => i.rule.encoding !== 'sha256').map((i) => `, p.${i.kind}`).join('');
  const sigs = (spec.signals ?? []).map((sig) => `, p.sig_${sig}`).join('');
  const joined = packed.map((k) => `coalesce(p.${k}, '')`).join(` || ${literal(d, PACK_SEPARATOR)} || `) || "''";
  const sql = `SELECT DISTINCT p.row_id, ${joined} AS packed${plain}${sigs}
FROM ${parts} p
WHERE p.op = ${literal(d, op)}
  AND ${notHeldBack(d, spec, op, deliveries, runId)}
ORDER BY p.row_id`;
  return { sql, packed };
}

/** Rows of this op that holdBackAddsSql recorded as held back in this run are never sent. */
function notHeldBack(d: SqlDialect, spec: SyncSqlSpec, op: 'add' | 'remove', deliveries: string, runId: string): string {
  return `p.row_id NOT IN (${heldBackRowsSql(d, spec, op, deliveries, runId)})`;
}

/** The row ids of this op held back in this run (a few: members whose removal failed). */
export function heldBackRowsSql(d: SqlDialect, spec: SyncSqlSpec, op: 'add' | 'remove', deliveries: string, runId: string): string {
  return `SELECT first_row_id FROM ${deliveries}
    WHERE run_id = ${literal(d, runId)} AND sync_id = ${literal(d, spec.syncId)} AND error_code = 'held_back' AND op = ${literal(d, op)}`;
}

/**
 * The span of row ids one op's rows take. Row ids are a dense rank ordered by op first (partsSql),
 * so every id from first to last is a row of this op: the rows to send are that span less the rows
 * held back, which is how encodedBatchesSql's batches know their row ids without listing them.
 */
export function sendSpanSql(d: SqlDialect, spec: SyncSqlSpec, op: 'add' | 'remove'): string {
  return `SELECT min(row_id) AS first_row_id, max(row_id) AS last_row_id FROM ${d.quoteIdent(scratch.parts(spec.index))} WHERE op = ${literal(d, op)}`;
}

/**
 * The rows of one op with ids from..to, cut into batches of up to maxRows consecutive ids and each
 * batch already written as the platform's payload rows: a JSON array per row holding the sync's
 * kinds in order, a missing value as "" (capabilities.rowEncoding 'json_array'), in a JSON array.
 * One value per batch crosses the driver instead of one per row, and no row becomes a JS object:
 * that per-row work held delivery to about 150k rows/s (bench/). Hashes are hex, so they are quoted
 * as they are; plain-text kinds go through the engine's own JSON string encoding. Where the engine
 * can (dialect.utf8Bytes), the batch comes as UTF-8 bytes: a buffer outside the JS heap that goes
 * into the request body as it is, where a string of megabytes was copied three times and left to
 * the heap's major collections (bench/).
 * A range, not the whole op: an engine aggregates every group before it returns the first, so the
 * caller asks for a few batches at a time (DuckDB's zone maps skip the rest of the parts table).
 * Nothing is sorted. The batches come in no particular order and the caller sorts the few it gets
 * (an ORDER BY here made DuckDB copy each megabytes-long batch once more to sort four rows). Within
 * a batch, rows come in whatever order the engine aggregates them: which rows a batch holds is
 * fixed by its id range, and a platform takes a batch's rows as a set (Meta reports no positions).
 * Sorting each batch by row id took a third of the query (bench/).
 * heldBack: whether this run holds back rows of this op (heldBackRowsSql); when it holds none, as
 * almost always, the queries skip looking for them.
 */
export function encodedBatchesSql(
  d: SqlDialect,
  spec: SyncSqlSpec,
  op: 'add' | 'remove',
  deliveries: string,
  runId: string,
  range: { from: number; to: number },
  maxRows: number,
  heldBack = true,
): string {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  // One concat() per row: chained || allocates a string per step, which cost DuckDB 40% more.
  const values = spec.identifiers
    .map((i) => (i.rule.encoding === 'sha256' ? `'"', coalesce(p.${i.kind}, ''), '"'` : d.jsonString(`coalesce(p.${i.kind}, '')`)))
    .join(`, ',', `);
  // The whole array, brackets included; as bytes where the driver hands them over outside the JS heap.
  const array = `concat('[', ${d.stringAgg('row_json', ',')}, ']')`;
  return `SELECT min(row_id) AS first_row_id, max(row_id) AS last_row_id, count(*) AS row_count,
  ${d.utf8Bytes ? d.utf8Bytes(array) : array} AS rows_json
FROM (
  SELECT p.row_id, concat('[', ${values}, ']') AS row_json
  FROM ${parts} p
  WHERE p.op = ${literal(d, op)} AND p.row_id BETWEEN ${Math.trunc(range.from)} AND ${Math.trunc(range.to)} AND p.first_of_row${
    heldBack ? `\n    AND ${notHeldBack(d, spec, op, deliveries, runId)}` : ''
  }
) r
GROUP BY FLOOR((row_id - ${Math.trunc(range.from)}) / ${Math.trunc(maxRows)})`;
}

/** Turns rowsToSendSql's rows back into one column per kind (NULL where '' was packed), in place. */
export function unpackRows<T extends Record<string, unknown>>(rows: T[], packed: string[]): T[] {
  for (const row of rows) {
    const values = String(row.packed).split(PACK_SEPARATOR);
    const target = row as Record<string, unknown>;
    for (let i = 0; i < packed.length; i++) target[packed[i]!] = values[i] || null;
    delete target.packed;
  }
  return rows;
}

/**
 * Per delivery row: accepted (covered by a sent request, not by a rejection) or not, and why.
 * Rows are joined by range only to what is rare: failed ranges, and the gaps no sent range covers
 * (worked out over the ranges alone). Joining every row to every range took 40 s of a 10M-member
 * first sync, whose 900 requests each sent a range (bench/).
 */
export function rowOutcomesSql(d: SqlDialect, spec: SyncSqlSpec, deliveries: string, runId: string): string {
  const parts = d.quoteIdent(scratch.parts(spec.index));
  // This run's and sync's outcome rows, optionally through an alias.
  const mine = (a = '') => `${a}run_id = ${literal(d, runId)} AND ${a}sync_id = ${literal(d, spec.syncId)}`;
  // Sent ranges in order; a gap opens where a range starts past the furthest end before it, and
  // after the furthest end of all (up to 2^53 - 1, beyond any row id).
  const gaps = `SELECT prev_end + 1 AS gap_first, first_row_id - 1 AS gap_last FROM (
      SELECT first_row_id, coalesce(lag(max_end) OVER (ORDER BY first_row_id, last_row_id), 0) AS prev_end FROM (
        SELECT first_row_id, last_row_id, max(last_row_id) OVER (ORDER BY first_row_id, last_row_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS max_end
        FROM ${deliveries} WHERE ${mine()} AND status = 'sent'
      ) s
    ) s
    WHERE first_row_id > prev_end + 1
    UNION ALL
    SELECT coalesce(max(last_row_id), 0) + 1, 9007199254740991 FROM ${deliveries} WHERE ${mine()} AND status = 'sent'`;
  return `SELECT r.row_id, (u.row_id IS NULL AND f.row_id IS NULL) AS ok, f.error_code, f.error_message
  FROM (SELECT DISTINCT row_id FROM ${parts}) r
  LEFT JOIN (
    SELECT p.row_id, min(o.error_code) AS error_code, min(o.error_message) AS error_message
    FROM ${parts} p JOIN ${deliveries} o ON ${mine('o.')} AND o.status = 'failed'
      AND p.row_id BETWEEN o.first_row_id AND o.last_row_id
    GROUP BY p.row_id
  ) f ON f.row_id = r.row_id
  LEFT JOIN (
    SELECT DISTINCT p.row_id FROM ${parts} p JOIN (
    ${gaps}
    ) g ON p.row_id BETWEEN g.gap_first AND g.gap_last
  ) u ON u.row_id = r.row_id`;
}

const LOST_MESSAGE =
  "cannot be removed: the platform takes this identifier only in plain text (a MADID, an external id, or a Google address's region and postal code when it was synced before audsync kept address keys), audsync keeps only its hash, and the source row is gone or no longer holds it; keep leaving members in the model (e.g. with consent FALSE) until a run removes them";

/**
 * Each delta member's outcome and what it does to the snapshot:
 *   status: sent (its parts were accepted), noop (nothing needed sending), failed, dead (something
 *     it left behind can never be sent: a 'lost' part; a failure of a sendable part comes first, so
 *     it is retried)
 *   action: upsert (platform holds the new values), delete (holds none of this member's), keep (unchanged)
 * A lost part is a leaver's (delete: the snapshot forgets it, nothing can remove it later) or, for
 * an address kept before address_key existed, a changing member's (upsert: the new values are held).
 * The member's fingerprint and source_updated_at come along (one delta row per member), so the audit
 * trail and the retries are written from this table alone: joining it back to the delta cost a
 * 9M-by-9M hash join, and the process's peak memory, on a 10M-member first sync (bench/).
 */
export function memberResultsSql(
  d: SqlDialect,
  spec: SyncSqlSpec,
  deliveries: string,
  runId: string,
  unsentMessage: string,
  /** The platform emptied the audience this run (remove-all): a failed re-add leaves the member with nothing. */
  emptied = false,
): string {
  const delta = d.quoteIdent(scratch.delta(spec.index));
  const parts = d.quoteIdent(scratch.parts(spec.index));
  const select = `WITH ro AS (${rowOutcomesSql(d, spec, deliveries, runId)}),
per_member AS (
  SELECT dl.member_key, dl.op, dl.fingerprint, dl.source_updated_at,
    max(CASE WHEN p.op = 'remove' THEN 1 ELSE 0 END) AS has_remove,
    max(CASE WHEN p.op = 'remove' AND NOT ro.ok THEN 1 ELSE 0 END) AS remove_failed,
    max(CASE WHEN p.op = 'add' THEN 1 ELSE 0 END) AS has_add,
    max(CASE WHEN p.op = 'add' AND NOT ro.ok THEN 1 ELSE 0 END) AS add_failed,
    max(CASE WHEN p.op = 'lost' THEN 1 ELSE 0 END) AS lost,
    min(CASE WHEN NOT ro.ok AND p.op <> 'lost' THEN ro.error_code END) AS error_code,
    min(CASE WHEN NOT ro.ok AND p.op <> 'lost' THEN coalesce(ro.error_message, ${literal(d, unsentMessage)}) END) AS error_message
  FROM ${delta} dl
  LEFT JOIN ${parts} p ON p.member_key = dl.member_key
  LEFT JOIN ro ON ro.row_id = p.row_id
  WHERE NOT dl.dead_lettered -- dead letters of earlier runs: not sent, not recorded again (delta.ts)
  GROUP BY dl.member_key, dl.op, dl.fingerprint, dl.source_updated_at
)
SELECT member_key, op, fingerprint, source_updated_at,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN 'failed' WHEN lost = 1 THEN 'dead' WHEN has_remove = 1 OR has_add = 1 THEN 'sent' ELSE 'noop' END AS status,
  CASE
    WHEN remove_failed = 1 THEN 'keep'
    WHEN op = 'remove' THEN 'delete'
    -- The add failed: if this run removed the member's old identifiers, the platform holds none of
    -- its own any more (delete); if nothing was removed it still holds the old ones (keep).
    WHEN add_failed = 1 THEN CASE WHEN has_remove = 1 OR ${emptied ? 'TRUE' : 'FALSE'} THEN 'delete' ELSE 'keep' END
    ELSE 'upsert'
  END AS action,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN coalesce(error_code, 'not_sent') WHEN lost = 1 THEN 'unrecoverable' END AS error_code,
  CASE WHEN remove_failed = 1 OR add_failed = 1 THEN error_message WHEN lost = 1 THEN ${literal(d, LOST_MESSAGE)} END AS error_message
FROM per_member`;
  return d.createTempTableAs(scratch.result(spec.index), select);
}

export function resultCountsSql(d: SqlDialect, spec: SyncSqlSpec): string {
  return `SELECT op, status, count(*) AS n FROM ${d.quoteIdent(scratch.result(spec.index))} GROUP BY op, status`;
}
