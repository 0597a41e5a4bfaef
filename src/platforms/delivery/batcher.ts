// Cuts a stream of delivery rows into request-sized batches by rows and by bytes. Rows arrive in
// row_id order, so a batch's outcome is one record for the range first..last; ids inside may have
// gaps (rows held back), which is why each batch keeps its row ids for per-row rejections.
import type { HashedRow, IdentifierKind } from '../../core/identifiers.js';
import { jsonTextString } from '../http/json-text.js';
import type { EncodedRows, MemberConsent } from '../platform.js';

export interface DeliveryRow {
  row_id: number;
  values: HashedRow;
}

export interface Batch {
  firstRowId: number;
  lastRowId: number;
  rowIds: number[];
  /** Empty when the batch comes encoded. */
  rows: HashedRow[];
  /** The rows as the warehouse wrote them in the platform's rowEncoding (runner/encoded-batches.ts). */
  encoded?: EncodedRows;
  /** Per row, when the sync sends consent signals (columns sig_<signal> of the delivery rows). */
  consent?: (MemberConsent | undefined)[];
  session?: { id: string; seq: number; last: boolean };
}

// JSON overhead per value (quotes, comma) and per row (brackets); a safe over-estimate.
const BYTES_PER_VALUE = 4;
const BYTES_PER_ROW = 4;

export async function* batches(
  chunks: AsyncIterable<Record<string, unknown>[]>,
  kinds: IdentifierKind[],
  limits: { maxRows: number; maxBytes?: number },
  signals: string[] = [],
): AsyncGenerator<Batch> {
  let rows: HashedRow[] = [];
  let rowIds: number[] = [];
  let consent: (MemberConsent | undefined)[] = [];
  let first = -1;
  let last = -1;
  let bytes = 0;
  for await (const chunk of chunks) {
    for (const record of chunk) {
      const values: HashedRow = {};
      let size = BYTES_PER_ROW;
      for (const kind of kinds) {
        const value = record[kind];
        if (typeof value === 'string') {
          values[kind] = value;
          size += value.length + BYTES_PER_VALUE;
        } else {
          size += BYTES_PER_VALUE;
        }
      }
      const rowId = Number(record.row_id);
      const full = rows.length >= limits.maxRows || (limits.maxBytes !== undefined && rows.length > 0 && bytes + size > limits.maxBytes);
      if (full) {
        yield { firstRowId: first, lastRowId: last, rowIds, rows, ...(signals.length ? { consent } : {}) };
        rows = [];
        rowIds = [];
        consent = [];
        bytes = 0;
      }
      if (rows.length === 0) first = rowId;
      rows.push(values);
      rowIds.push(rowId);
      if (signals.length) consent.push(memberConsent(record, signals));
      last = rowId;
      bytes += size;
    }
  }
  if (rows.length > 0) yield { firstRowId: first, lastRowId: last, rowIds, rows, ...(signals.length ? { consent } : {}) };
}

function memberConsent(record: Record<string, unknown>, signals: string[]): MemberConsent | undefined {
  const out: Record<string, 'GRANTED' | 'DENIED'> = {};
  for (const signal of signals) {
    const value = record[`sig_${signal}`];
    if (value === 'GRANTED' || value === 'DENIED') out[signal] = value;
  }
  return Object.keys(out).length ? (out as MemberConsent) : undefined;
}

/**
 * An encoded batch's rows as objects, for the rare batch that must be cut in two (a platform refused
 * it whole): 'json_array' rows hold the kinds in order, "" where the member has none.
 */
export function decodeRows(encoded: EncodedRows, kinds: IdentifierKind[]): HashedRow[] {
  const rows = JSON.parse(jsonTextString(encoded.json)) as string[][];
  if (!Array.isArray(rows) || rows.length !== encoded.count) throw new Error(`an encoded batch of ${encoded.count} rows decoded to ${Array.isArray(rows) ? rows.length : 'no'} rows`);
  return rows.map((values) => {
    const row: HashedRow = {};
    kinds.forEach((kind, i) => {
      const value = values[i];
      if (value) row[kind] = value;
    });
    return row;
  });
}
