// Engine error messages can quote the data that broke a statement: DuckDB appends the offending CSV
// line, conversion errors quote the value, Postgres details list the failing row. Raw identifiers
// must never reach logs, errors or audit tables, so every engine message is scrubbed against the
// SQL that produced it: a quoted literal survives only if our own SQL text contains it (column and
// table names, a typo in the model's query) or it names a type.
const TYPE_NAME = /^(bool(ean)?|varchar|text|string|char|u?(tiny|small|big|huge)?int(eger)?\d*|double|float\d*|real|decimal(\(\d+,\s*\d+\))?|numeric|date|time(stamp)?( with time zone)?|timestamptz|interval|uuid|blob|bytea|json|list|struct|map)$/i;
const EMAIL = /[^\s'"@<>()]+@[^\s'"@<>()]+\.[^\s'"@<>()]+/g;
const LONG_DIGITS = /\+?\d[\d\s().-]{6,}\d/g;

export function scrubEngineMessage(message: string, sql: string): string {
  const known = sql.toLowerCase();
  return message
    .replace(/^[ \t]*Original Line:.*$/gim, '[source line omitted]') // DuckDB CSV errors quote the source line
    .replace(/(Failing row contains|Key \([^)]*\)=)\s*\([^)]*\)/g, '$1 (…)') // Postgres DETAIL
    .replace(/'([^'\n]*)'|"([^"\n]*)"/g, (quoted, single?: string, double?: string) => {
      const value = single ?? double ?? '';
      const safe = value === '' || TYPE_NAME.test(value.trim()) || (value.length <= 128 && known.includes(value.toLowerCase()));
      return safe ? quoted : `${quoted[0]}…${quoted[0]}`;
    })
    .replace(EMAIL, '[email]')
    .replace(LONG_DIGITS, '[number]');
}
