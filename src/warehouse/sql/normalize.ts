// Identifier normalization as SQL: one specification, compiled for every dialect, one rule per name.
// A platform's capabilities name the rule for each kind it takes (platforms/<name>/capabilities.ts);
// the rules follow each platform's published guidance (see docs/identity.md for sources).
// Every rule yields the normalized text, or NULL when the value cannot be valid, so invalid
// identifiers are counted in the warehouse and never sent. Raw values never leave the warehouse:
// only encodeSql()'s output does.
import type { IdentifierRule } from '../../core/identifiers.js';
import { literal, type SqlDialect } from './dialect.js';
import { phoneRegions } from './phone-metadata.js';
import { categoryClass } from './unicode.js';

export const SHA256_HEX = '[0-9a-f]{64}';
// Whitespace as JavaScript's \s knows it. RE2 (DuckDB, BigQuery) and Postgres read \s as ASCII
// only, so a no-break space pasted from a web form would otherwise stay inside a value.
// The characters themselves go into the pattern: RE2 and Postgres spell escapes differently.
export const WS = '\\s\u000b\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
// ASCII punctuation (which counts $+<=>^`|~ too) and U+02BC, an apostrophe in CRMs though Unicode
// calls it a letter; with every other Unicode punctuation mark (punctuation(), below).
export const PUNCT = '!-/:-@\\[-`{-~\u02bc';
/** PUNCT and Unicode's punctuation (\p{P}: guillemets, bullets, '§', '。'...), as a class body. */
export const punctuation = () => PUNCT + categoryClass('P');
// Deliberately permissive: one '@', no whitespace, a dot in the domain. Platforms match; we only
// refuse what can never match.
const EMAIL = '[^@]+@[^@]+\\.[^@]+';
const MAID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ZERO_MAID = '00000000-0000-0000-0000-000000000000'; // a device that opted out of tracking

export interface RuleContext {
  /** The raw column, as a SQL expression. */
  column: string;
  /** The row's ISO 3166-1 alpha-2 region, upper case (its country identifier, else the default). */
  region: string;
  /** The row's phone as E.164 digits without '+' (see phone.ts), when a phone rule is in use. */
  phoneDigits: string;
  /** The row's country identifier as ISO-2 (regionSql), computed once per row; NULL when invalid. */
  countryCode: string;
}

type Rule = (d: SqlDialect, c: RuleContext) => string;

const text = (d: SqlDialect, column: string) => `CAST(${column} AS ${d.types.text})`;
const strip = (d: SqlDialect, v: string, chars: string) => d.regexReplaceAll(v, `[${chars}]+`, '');
const trim = (d: SqlDialect, v: string, chars = WS) => d.regexReplaceAll(v, `^[${chars}]+|[${chars}]+$`, '');
const nonEmpty = (v: string) => `NULLIF(${v}, '')`;
const when = (d: SqlDialect, v: string, pattern: string) => `CASE WHEN ${d.regexFullMatch(v, pattern)} THEN ${v} END`;

/** Whitespace anywhere and dots at either end removed, lowercased (Meta's SDK strips " \t\r\n\0\x0B." at the ends). */
function emailBase(d: SqlDialect, column: string): string {
  return `lower(${trim(d, strip(d, text(d, column), WS), '.')})`;
}

function validEmail(d: SqlDialect, v: string): string {
  return `CASE WHEN ${d.regexFullMatch(v, SHA256_HEX)} OR ${d.regexFullMatch(v, EMAIL)} THEN ${v} END`;
}

/**
 * ISO 3166-1 alpha-2, upper case, or NULL. Read from the letters of the value: a two-letter code
 * (' us ' -> 'US', 'UK' -> 'GB'), or an English country name ('Germany' -> 'DE', 'United States' ->
 * 'US'). Never the first two letters of a name: 'Germany' is not Georgia (GE).
 */
export function regionSql(d: SqlDialect, column: string): string {
  // Letters of every script (NFC), so 'São Tomé' is not read as 'so' + 'tom' and 'Réunion' matches.
  const letters = regionLettersSql(d, column);
  const byName = regionNames().map(([name, code]) => `WHEN ${literal(d, name)} THEN '${code}'`).join(' ');
  const known = phoneRegions().map((r) => `'${r.region}'`).join(', ');
  const code = `CASE WHEN ${d.regexFullMatch(letters, '[a-z]{2}')} AND upper(${letters}) IN (${known}) THEN upper(${letters}) END`;
  return `CASE ${letters} ${byName} ELSE ${code} END`;
}

/**
 * regionSql as a lookup table for a join, the same answer for every value: each English name (and
 * alias) with its code, and each known code in lower case with itself, where no name is spelled so.
 * Keyed by the value's letters as regionSql reads them (regionLettersSql); the keys are unique.
 * The candidate joins on it: regionSql's CASE of some 250 branches took about a fifth of the
 * candidate's time at 1M rows (bench/), the join a small fraction of that.
 */
export function regionLookup(): [string, string][] {
  const byLetters = new Map<string, string>(regionNames());
  for (const { region } of phoneRegions()) {
    // regionSql takes two letters [a-z]{2} whose upper case is a known region: exactly lower(region).
    if (/^[A-Z]{2}$/.test(region) && !byLetters.has(region.toLowerCase())) byLetters.set(region.toLowerCase(), region);
  }
  return [...byLetters];
}

/** The letters regionSql and regionLookup() read a country value by: every script (NFC), lower case. */
export function regionLettersSql(d: SqlDialect, column: string): string {
  return `lower(${d.lettersOnly(text(d, column))})`;
}

let names: [string, string][] | undefined;
/** English region names (from Node's ICU data) and common aliases, as letters only, lower case. */
function regionNames(): [string, string][] {
  if (names) return names;
  const display = new Intl.DisplayNames(['en'], { type: 'region' });
  // Spellings people write that ICU's short names do not use.
  const map = new Map<string, string>([
    ['uk', 'GB'], ['greatbritain', 'GB'], ['england', 'GB'], ['scotland', 'GB'], ['wales', 'GB'], ['northernireland', 'GB'],
    ['usa', 'US'], ['unitedstatesofamerica', 'US'], ['holland', 'NL'], ['southkorea', 'KR'], ['russia', 'RU'],
    ['turkey', 'TR'], ['czechrepublic', 'CZ'], ['ivorycoast', 'CI'], ['hongkong', 'HK'], ['macau', 'MO'], ['macao', 'MO'],
    ['reunion', 'RE'], ['bosniaandherzegovina', 'BA'], ['burma', 'MM'], ['swaziland', 'SZ'], ['vatican', 'VA'],
  ]);
  for (const { region } of phoneRegions()) {
    const name = display.of(region)?.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{M}]/gu, '');
    if (name && name.length > 2 && !map.has(name)) map.set(name, region);
  }
  names = [...map].sort(([a], [b]) => a.localeCompare(b));
  return names;
}

/** US ZIP from a value without whitespace: the first 5 digits of ZIP or ZIP+4, lost leading zeros restored. */
function usZip(d: SqlDialect, v: string): string {
  return `CASE WHEN ${d.regexFullMatch(v, '[0-9]{5}(-?[0-9]{4})?')} THEN substr(${v}, 1, 5)
      WHEN ${d.regexFullMatch(v, '[0-9]{3,4}')} THEN ${d.lpad(v, 5, '0')} END`;
}

const rules: Record<string, Rule> = {
  email: (d, c) => validEmail(d, emailBase(d, c.column)),
  // Google: for gmail.com and googlemail.com only, dots and any +suffix go from the local part.
  email_google: (d, c) => {
    const v = emailBase(d, c.column);
    const local = d.regexReplaceAll(v, '@.*$', '');
    const domain = d.regexReplaceAll(v, '^[^@]*@', '');
    const gmail = `${d.regexReplaceAll(d.regexReplaceAll(local, '\\+.*$', ''), '\\.', '')} || '@' || ${domain}`;
    return validEmail(d, `CASE WHEN ${d.strpos(v, "'@'")} > 0 AND ${domain} IN ('gmail.com', 'googlemail.com') THEN ${gmail} ELSE ${v} END`);
  },
  phone_digits: (_d, c) => c.phoneDigits, // Meta, Snap: country code and number, no '+'
  phone_e164: (_d, c) => `'+' || ${c.phoneDigits}`, // Google, TikTok
  // Meta FN/LN: lowercase letters only; letters of every script are kept (UTF-8, NFC), digits, symbols and punctuation go.
  name: (d, c) => nonEmpty(`lower(${d.lettersOnly(text(d, c.column))})`),
  // Google givenName/familyName: lowercase, no punctuation, no whitespace at the ends.
  name_google: (d, c) => nonEmpty(`lower(${trim(d, d.regexReplaceAll(strip(d, text(d, c.column), punctuation()), `[${WS}]+`, ' '))})`),
  // Meta CT/ST: like names (its SDK drops digits, spaces, dots, dashes and parentheses).
  city: (d, c) => nonEmpty(`lower(${d.lettersOnly(text(d, c.column))})`),
  state: (d, c) => nonEmpty(`lower(${d.lettersOnly(text(d, c.column))})`),
  // Meta ZIP: lowercase without spaces; US: the first 5 digits of ZIP+4, leading zeros restored.
  zip: (d, c) => {
    const v = `lower(${strip(d, text(d, c.column), WS)})`;
    return nonEmpty(`CASE WHEN ${c.region} = 'US' THEN ${usZip(d, v)} ELSE ${v} END`);
  },
  // Google postalCode is sent as is: trimmed, single spaces, upper case; US as 5 digits.
  postal_code: (d, c) => {
    const v = `upper(${trim(d, d.regexReplaceAll(text(d, c.column), `[${WS}]+`, ' '))})`;
    return nonEmpty(`CASE WHEN ${c.region} = 'US' THEN ${usZip(d, strip(d, text(d, c.column), WS))} ELSE ${v} END`);
  },
  country_lower: (_d, c) => `lower(${c.countryCode})`, // Meta COUNTRY
  country_upper: (_d, c) => c.countryCode, // Google regionCode
  // Advertising ids (IDFA, GAID): a lowercase UUID with its hyphens; the all-zero id means opted out.
  maid: (d, c) => {
    const v = `lower(${trim(d, text(d, c.column))})`;
    return `CASE WHEN ${d.regexFullMatch(v, MAID)} AND ${v} <> ${literal(d, ZERO_MAID)} THEN ${v} END`;
  },
  // Any non-empty text, trimmed (external ids).
  trimmed: (d, c) => nonEmpty(trim(d, text(d, c.column))),
};

export function normalizerNames(): string[] {
  return Object.keys(rules);
}

export const usesPhone = (rule: IdentifierRule) => rule.normalizer === 'phone_digits' || rule.normalizer === 'phone_e164';

/**
 * The normalized value, or NULL when invalid. For a kind sent hashed, a value that already is a
 * SHA-256 (64 hex digits, any case, padded or not) passes through lowercased: never hashed twice.
 */
export function normalizeSql(d: SqlDialect, rule: IdentifierRule, c: RuleContext): string {
  const build = rules[rule.normalizer];
  if (!build) throw new Error(`unknown normalizer '${rule.normalizer}'`);
  if (rule.encoding !== 'sha256') return build(d, c);
  const hashed = `lower(${trim(d, text(d, c.column))})`;
  // Trimming only removes characters, so a value shorter than 64 characters cannot be a hash: the
  // length test (the same answer) spares nearly every row the trim, a regex costlier than most rules.
  return `CASE WHEN length(${text(d, c.column)}) >= 64 AND ${d.regexFullMatch(hashed, SHA256_HEX)} THEN ${hashed} ELSE ${build(d, c)} END`;
}

/** What is sent: SHA-256 hex (a value that already is one passes through, never hashed twice) or the value itself. */
export function encodeSql(d: SqlDialect, rule: IdentifierRule, normalized: string): string {
  if (rule.encoding === 'plain') return normalized;
  return `CASE WHEN ${d.regexFullMatch(normalized, SHA256_HEX)} THEN ${normalized} ELSE ${d.sha256Hex(normalized)} END`;
}

/** What the snapshot keeps: the value sent when it is a hash, else the hash of it (no raw identifier is stored). */
export function storedSql(d: SqlDialect, rule: IdentifierRule, sent: string): string {
  return rule.encoding === 'plain' ? d.sha256Hex(sent) : sent;
}
