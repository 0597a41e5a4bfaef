// pg hands back BIGINT and NUMERIC as strings, and TIMESTAMP (no zone) in the machine's zone. The
// runner wants what DuckDB gives: numbers where they are exact, strings otherwise, Dates in UTC.
import pg from 'pg';

const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

export function pgTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8, parseInteger);
  types.setTypeParser(NUMERIC, parseNumeric);
  const withZone = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
  // Sessions run in UTC, so a TIMESTAMP's text is a UTC wall clock (as DuckDB reads it).
  types.setTypeParser(TIMESTAMP, (text: string) => withZone(/^\d/.test(text) ? text.replace(/( BC)?$/, 'Z$1') : text));
  return types;
}

export function parseInteger(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

export function parseNumeric(text: string): number | string {
  if (/^-?\d+$/.test(text)) return parseInteger(text);
  const n = Number(text);
  // Exact only when the number prints back as the same decimal (trailing zeros aside).
  const trimmed = text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return Number.isFinite(n) && String(n) === trimmed ? n : text;
}
