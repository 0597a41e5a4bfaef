// Validation of the `payload` param of /users and /usersreplace, per the published contract:
// a known schema, rows as long as the schema, hashed fields as SHA-256 lowercase hex. One bad value
// fails the whole call, as Meta does; the message names the key and row, never the value.
import { objectParam } from '../body.js';
import { invalidParam, tooManyRows } from './errors.js';
import { ScannedRows } from './rows-scan.js';

const MULTI_KEYS = new Set(['EXTERN_ID', 'EMAIL', 'PHONE', 'GEN', 'DOBY', 'DOBM', 'DOBD', 'LN', 'FN', 'FI', 'CT', 'ST', 'ZIP', 'MADID', 'COUNTRY']);

/** Single-key schemas, and the multi-key set their values belong to, so members('EMAIL') sees both. */
const SINGLE_KEYS: Record<string, string> = {
  EMAIL_SHA256: 'EMAIL',
  PHONE_SHA256: 'PHONE',
  MOBILE_ADVERTISER_ID: 'MADID',
};

/** Sent as normalized plain text; everything else must be hashed. */
const PLAIN_KEYS = new Set(['MADID', 'EXTERN_ID']);

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const MAX_ROWS_PER_REQUEST = 10_000;

export interface ValidPayload {
  /** The member-set key of each column. */
  keys: string[];
  count: number;
  /** Per column: rows whose value is not "". */
  nonEmpty: number[];
  /** Rows whose every field is empty: received but useless. */
  invalidEntries: number;
  /** The rows, parsed when first asked for (a simulator that only counts never asks). */
  rows(): string[][];
}

export function validatePayload(param: unknown): ValidPayload {
  const payload = objectParam(param);
  if (payload === undefined) throw invalidParam('The parameter payload is required');
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw invalidParam('param payload must be a JSON object');
  const { schema, data, is_raw: isRaw } = payload as Record<string, unknown>;

  const keys = schemaKeys(schema);
  if (Array.isArray(schema) && isRaw !== true) throw invalidParam('is_raw must be true for a multi-key schema');

  const hashed = keys.map((key) => !PLAIN_KEYS.has(key));
  if (data instanceof ScannedRows) {
    if (data.count > MAX_ROWS_PER_REQUEST) throw tooManyRows();
    // Rows of the schema's width whose hashed columns hold only hashes and "" are valid as they are;
    // anything else goes through the checks below, which name the row and key at fault.
    if (data.width === keys.length && hashed.every((h, column) => !h || data.hexOrEmpty[column])) {
      return { keys, count: data.count, nonEmpty: data.nonEmpty, invalidEntries: data.emptyRows, rows: once(() => data.rows()) };
    }
    return checkRows(keys, schema, hashed, data.rows());
  }
  if (!Array.isArray(data) || data.length === 0) throw invalidParam('payload.data must be a non-empty array of rows');
  if (data.length > MAX_ROWS_PER_REQUEST) throw tooManyRows();
  return checkRows(keys, schema, hashed, data);
}

function checkRows(keys: string[], schema: unknown, hashed: boolean[], data: unknown[]): ValidPayload {
  const rows: string[][] = [];
  const nonEmpty = keys.map(() => 0);
  let invalidEntries = 0;
  for (let index = 0; index < data.length; index++) {
    const raw: unknown = data[index];
    // Single-key schemas also take bare values, as in Meta's own examples.
    const row = typeof raw === 'string' && !Array.isArray(schema) ? [raw] : raw;
    if (!Array.isArray(row) || row.length !== keys.length) {
      throw invalidParam(`payload.data[${index}] must be an array of ${keys.length} value(s), one per schema key`);
    }
    const state = quickCheck(row, hashed);
    // The quick check only says whether a row is fine; the slow one names the value at fault.
    if (state === 'unsure') row.forEach((value: unknown, column) => checkValue(value, keys[column]!, index));
    if (state === 'empty' || (state === 'unsure' && row.every((value) => value === ''))) invalidEntries++;
    for (let column = 0; column < row.length; column++) if (row[column] !== '') nonEmpty[column]!++;
    rows.push(row as string[]);
  }
  return { keys, count: rows.length, nonEmpty, invalidEntries, rows: () => rows };
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

function schemaKeys(schema: unknown): string[] {
  if (typeof schema === 'string') {
    const key = SINGLE_KEYS[schema];
    if (!key) throw invalidParam(`payload.schema '${schema.slice(0, 40)}' is not a supported single-key schema (${Object.keys(SINGLE_KEYS).join(', ')})`);
    return [key];
  }
  if (!Array.isArray(schema) || schema.length === 0) throw invalidParam('payload.schema must be a non-empty array of schema keys');
  const seen = new Set<string>();
  for (const key of schema) {
    if (typeof key !== 'string' || !MULTI_KEYS.has(key)) throw invalidParam(`payload.schema has an unknown key '${String(key).slice(0, 40)}'`);
    if (seen.has(key)) throw invalidParam(`payload.schema names '${key}' twice`);
    seen.add(key);
  }
  return schema as string[];
}

/**
 * Whether a row's values are all strings, its hashed ones 64 lowercase hex digits or empty. A
 * simulator at a million rows a second cannot afford a regex per value (about 0.3 us each): the
 * row's hashes are joined and decoded as hex at once, which stops short at the first non-hex digit,
 * and compared with their lowercase. 'unsure' sends the row through checkValue.
 */
function quickCheck(row: unknown[], hashed: boolean[]): 'ok' | 'empty' | 'unsure' {
  let hex = '';
  let empty = true;
  for (let column = 0; column < row.length; column++) {
    const value = row[column];
    if (typeof value !== 'string') return 'unsure';
    if (value === '') continue;
    empty = false;
    if (!hashed[column]) continue;
    if (value.length !== 64) return 'unsure';
    hex += value;
  }
  if (hex !== '' && (notAllHex(hex) || hex.toLowerCase() !== hex)) return 'unsure';
  return empty ? 'empty' : 'ok';
}

// Room for the hashes of a row of every schema key: decoding into it allocates nothing per row.
const HEX_SCRATCH = Buffer.allocUnsafe(MULTI_KEYS.size * 32);

/** Buffer#write stops at the first pair of characters it cannot decode as hex. */
function notAllHex(hex: string): boolean {
  return HEX_SCRATCH.write(hex, 0, 'hex') * 2 !== hex.length;
}

function checkValue(value: unknown, key: string, row: number): void {
  if (typeof value !== 'string') throw invalidParam(`Invalid value for schema key ${key} at payload.data[${row}]: values must be strings`);
  if (value === '' || PLAIN_KEYS.has(key)) return;
  if (!SHA256_HEX.test(value)) {
    throw invalidParam(
      `Invalid value for schema key ${key} at payload.data[${row}]: expected an empty string or a SHA-256 hash as 64 lowercase hex characters`,
    );
  }
}
