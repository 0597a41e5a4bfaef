// Identifier normalization as SQL, one rule per name, compiled for any dialect. Every rule yields
// the normalized text, or NULL when the value cannot be valid, so invalid identifiers are counted in
// the warehouse and never sent. Raw values never leave the warehouse: only encode()'s output does.
import type { IdentifierRule } from '../../core/identifiers.js';
import type { SqlDialect } from './dialect.js';

const SHA256_HEX = '[0-9a-f]{64}';
// Whitespace as JavaScript's \s knows it. RE2 (DuckDB) and Postgres read \s as ASCII only, so a
// no-break space pasted from a web form would otherwise stay inside the address and be hashed.
const WHITESPACE = '[\\s\u000b\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]';
// Deliberately permissive: one '@', no whitespace, a dot in the domain. Platforms match, we only
// refuse what can never match.
const EMAIL = '[^@\\s]+@[^@\\s]+\\.[^@\\s]+';

type Rule = (d: SqlDialect, column: string) => string;

const rules: Record<string, Rule> = {
  // Trim, drop inner whitespace, lowercase (Meta, Google, TikTok, LinkedIn, Snap all agree on this much).
  email: (d, column) => {
    const v = `lower(${d.regexReplaceAll(`CAST(${column} AS ${d.types.text})`, `${WHITESPACE}+`, '')})`;
    return `CASE WHEN ${d.regexFullMatch(v, SHA256_HEX)} OR ${d.regexFullMatch(v, EMAIL)} THEN ${v} END`;
  },
  // Any non-empty text, trimmed (external ids, member keys).
  trimmed: (d, column) => {
    const v = d.regexReplaceAll(`CAST(${column} AS ${d.types.text})`, `^${WHITESPACE}+|${WHITESPACE}+$`, '');
    return `NULLIF(${v}, '')`;
  },
};

export function normalizerNames(): string[] {
  return Object.keys(rules);
}

/** The normalized value of `column`, or NULL when invalid. */
export function normalizeSql(d: SqlDialect, rule: IdentifierRule, column: string): string {
  const build = rules[rule.normalizer];
  if (!build) throw new Error(`unknown normalizer '${rule.normalizer}'`);
  return build(d, column);
}

/** What is sent: SHA-256 hex (a value that already is one passes through, never hashed twice) or the value itself. */
export function encodeSql(d: SqlDialect, rule: IdentifierRule, normalized: string): string {
  if (rule.encoding === 'plain') return normalized;
  return `CASE WHEN ${d.regexFullMatch(normalized, SHA256_HEX)} THEN ${normalized} ELSE ${d.sha256Hex(normalized)} END`;
}
