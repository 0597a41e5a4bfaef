// The client wraps some values: INT64 as BigQueryInt (so large ones are not rounded), TIMESTAMP
// as BigQueryTimestamp, DATE/DATETIME/TIME as objects holding a string. The runner wants plain
// values: numbers where they fit (else the digits as a string), Dates for timestamps.
export function toJs(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = convert(value);
  return out;
}

function convert(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(convert);
  const kind = value.constructor?.name;
  const text = (value as { value?: unknown }).value;
  if (kind === 'BigQueryInt' && typeof text === 'string') {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (kind === 'BigQueryTimestamp' && typeof text === 'string') return new Date(text);
  if (typeof text === 'string' && kind?.startsWith('BigQuery')) return text;
  if (kind === 'Big') return Number(String(value)); // NUMERIC
  return toJs(value as Record<string, unknown>); // STRUCT
}
