/** Standard SQL string literal: single quotes doubled, backslashes literal (DuckDB; Postgres with standard_conforming_strings). */
export const standardString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
