// Snowflake folds unquoted names to upper case, so `SELECT count(*) AS row_count` answers ROW_COUNT;
// the runner reads the names it wrote. A name entirely in upper case is folded back to lower case;
// a quoted mixed-case name is kept. Integers arrive as bigint (jsTreatIntegerAsBigInt): numbers where
// they fit, else their digits; timestamps as Dates.
export function columnName(name: string): string {
  return /[A-Z]/.test(name) && name === name.toUpperCase() ? name.toLowerCase() : name;
}

export function toJs(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[columnName(key)] = convert(value);
  return out;
}

function convert(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return new Date(value.getTime());
  return value;
}

/** Bind values: the SDK takes strings, numbers, booleans and NULL. Timestamps as UTC text for TIMESTAMP_NTZ. */
export function toBind(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}
