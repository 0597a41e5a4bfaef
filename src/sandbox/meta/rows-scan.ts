// The rows of a /users body read from its bytes. JSON.parse of a batch of 10,000 rows of six hashes
// (4 MB) made a string and 70,000 objects only to check them and count them, about 2 us a row: the
// simulator alone could not take 500k rows/s on a core, so it could not tell how fast a client is.
// A scan of the data array's bytes checks the same things at about 0.4 us a row, and the rows become
// strings only when something needs them (a simulator that keeps members, a poisoned value).
//
// The scan takes only the plainest form of the data array (no whitespace, no escapes, ASCII) and
// gives up on anything else, which then goes through JSON.parse and the value-by-value check as
// before: it never decides differently from them, only sooner (test/sandbox/meta-rows-scan.test.ts).
import { randomUUID } from 'node:crypto';
import { mediaType, parseParams } from '../body.js';

/**
 * A body's params (body.ts parseParams), a JSON body's payload rows scanned from its bytes where
 * they are in their plainest form: payload.data is then a ScannedRows.
 */
export function bodyParams(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = mediaType(contentType);
  const split = type === 'application/json' ? splitRows(body) : undefined;
  if (split) {
    try {
      const params = parseParams(split.rest, type);
      const payload = params.payload as Record<string, unknown> | undefined;
      // The placeholder at payload.data and nowhere else (a client could send its text, in any spelling).
      if (payload && typeof payload === 'object' && !Array.isArray(payload) && payload.data === ROWS_PLACEHOLDER && placeholders(params) === 1) {
        payload.data = split.rows;
        return params;
      }
    } catch {
      // The rest is not valid JSON: the whole body is parsed below, for the message that says so.
    }
  }
  return parseParams(body, contentType);
}

/** How often the placeholder is a value in what was parsed: small, all of the body but its rows. */
function placeholders(value: unknown): number {
  if (value === ROWS_PLACEHOLDER) return 1;
  if (!value || typeof value !== 'object') return 0;
  let n = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) n += placeholders(item);
  return n;
}

/** The data array of a body, checked and counted, its rows parsed on demand. */
export class ScannedRows {
  constructor(
    /** The array's bytes, '[' to ']'. */
    private readonly text: Buffer,
    readonly count: number,
    /** Values in every row. */
    readonly width: number,
    /** Per column: rows whose value is not "". */
    readonly nonEmpty: number[],
    /** Per column: every value is "" or 64 lowercase hex digits. */
    readonly hexOrEmpty: boolean[],
    /** Rows whose every value is "". */
    readonly emptyRows: number,
  ) {}

  /** As JSON.parse of the whole body gives them: the text is ASCII without escapes. */
  rows(): string[][] {
    return JSON.parse(this.text.toString('latin1')) as string[][];
  }
}

interface SplitBody {
  /** The body with the data array replaced by ROWS_PLACEHOLDER: small, for JSON.parse. */
  rest: Buffer;
  rows: ScannedRows;
}

/**
 * What stands in for the data array in `rest`: a string no client has reason to send (random per
 * process); found once, at payload.data, it is the array scanned, not another "data" key elsewhere.
 */
export const ROWS_PLACEHOLDER = `\u0000rows ${randomUUID()}`;
const PLACEHOLDER_JSON = Buffer.from(JSON.stringify(ROWS_PLACEHOLDER));

const DATA_KEY = Buffer.from('"data":[');
const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
/** Columns a row may have for the scan; a wider one (no schema has that many keys) goes the slow way. */
const MAX_WIDTH = 32;

// Byte classes inside a string: a hex digit, another plain character, the closing quote, or
// something the scan leaves to JSON.parse (a control character, a backslash, a non-ASCII byte).
const HEX = 0;
const PLAIN = 1;
const END = 2;
const GIVE_UP = 3;
const CLASS = new Uint8Array(256).fill(GIVE_UP);
for (let b = 0x20; b < 0x80; b++) CLASS[b] = PLAIN;
for (const c of '0123456789abcdef') CLASS[c.charCodeAt(0)] = HEX;
CLASS[QUOTE] = END;
CLASS[0x5c] = GIVE_UP;

/**
 * The body's one `"data":[` array of arrays of strings, scanned, and the body without it; undefined
 * when the body has no such array, has the key twice, or the array is not in the plainest form.
 * Where the key sits (payload.data or elsewhere) is for the caller to check on the parsed rest.
 */
function splitRows(body: Buffer): SplitBody | undefined {
  const key = body.indexOf(DATA_KEY);
  if (key === -1) return undefined;
  const start = key + DATA_KEY.length - 1;
  const scanned = scanArray(body, start);
  if (!scanned) return undefined;
  const { end, rows } = scanned;
  // A second key would win in JSON.parse. The array itself cannot hold one (no quote is followed
  // by a colon in it), so only the bytes around it are searched.
  if (body.subarray(0, key).includes(DATA_KEY) || body.subarray(end).includes(DATA_KEY)) return undefined;
  return { rest: Buffer.concat([body.subarray(0, start), PLACEHOLDER_JSON, body.subarray(end)]), rows };
}

function scanArray(body: Buffer, start: number): { end: number; rows: ScannedRows } | undefined {
  const n = body.length;
  const nonEmpty = new Array<number>(MAX_WIDTH).fill(0);
  const hexOrEmpty = new Array<boolean>(MAX_WIDTH).fill(true);
  let count = 0;
  let width = -1;
  let emptyRows = 0;
  let i = start + 1;
  if (body[i] === CLOSE) return undefined; // empty: the slow path says why that is refused
  for (;;) {
    if (body[i] !== OPEN) return undefined;
    i++;
    let column = 0;
    let empty = true;
    for (;;) {
      if (body[i] !== QUOTE || column === MAX_WIDTH) return undefined;
      const from = ++i;
      let hex = true;
      for (;;) {
        if (i >= n) return undefined;
        const c = CLASS[body[i]!]!;
        if (c === END) break;
        if (c === GIVE_UP) return undefined;
        if (c === PLAIN) hex = false;
        i++;
      }
      const length = i - from;
      i++; // the closing quote
      if (length > 0) {
        empty = false;
        nonEmpty[column]!++;
        if (!hex || length !== 64) hexOrEmpty[column] = false;
      }
      column++;
      if (body[i] === COMMA) i++;
      else if (body[i] === CLOSE) break;
      else return undefined;
    }
    i++; // the row's ']'
    if (width === -1) width = column;
    else if (column !== width) return undefined;
    if (empty) emptyRows++;
    count++;
    if (body[i] === COMMA) i++;
    else if (body[i] === CLOSE) break;
    else return undefined;
  }
  const end = i + 1;
  return { end, rows: new ScannedRows(body.subarray(start, end), count, width, nonEmpty.slice(0, width), hexOrEmpty.slice(0, width), emptyRows) };
}
