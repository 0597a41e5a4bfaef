// DuckDB hands back bigint for BIGINT/HUGEINT and its own objects for some types. The runner wants
// plain JSON-able values: numbers where they fit, strings otherwise, Dates for timestamps.
export function toJs(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = convert(value);
  return out;
}

function convert(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
}
