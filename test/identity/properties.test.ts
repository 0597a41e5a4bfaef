// The SQL normalization equals the TypeScript reference (reference.ts) on random messy inputs, on
// DuckDB and on Postgres, through the real candidate SQL, hundreds of values per query (fast-check,
// AUDSYNC_PROPERTY_RUNS batches per property, AUDSYNC_PROPERTY_SEED to replay a failure).
// Phones: libphonenumber-js example numbers of every region, rendered national, international, with
// '00', with the row region's own international prefix, with a stray trunk '(0)', with punctuation
// and extensions, against libphonenumber-js's own parse.
//
// What the generators leave out, or the comparison allows, on purpose, and where it is tested
// instead (nothing is narrowed silently; see "known disagreements" at the end of this file):
//   - 'İ' and a word-final 'Σ' (engine lower() is simple case mapping): pinned per engine;
//   - letters added to Unicode after the engines' own tables (DuckDB's RE2 has Unicode 15.0,
//     Postgres glibc's [:alpha:] older still): not generated;
//   - names, cities, states on Postgres: its [:alpha:] (glibc's class) keeps non-ASCII digits ('٣',
//     '３'), letter numbers ('Ⅷ') and circled letters, and drops some combining marks NFC cannot
//     compose (a Devanagari virama or nukta, a Thai thanthakhat): allowed on Postgres only
//     (postgresAlpha; the Postgres dialect now takes numbers out, pinned), marks pinned as an
//     engine difference;
//   - a combining mark left on a non-letter (an emoji's variation selector U+FE0F, a keycap's
//     U+20E3): not generated, pinned (dropped on every engine);
//   - country spellings the SQL reads by their ASCII letters only: a name typed decomposed (NFD
//     'Réunion'), a non-ASCII letter the SQL drops ('São' read as SO): not generated, pinned (it.fails);
//   - a line break inside a phone number (the SQL reads every digit, libphonenumber stops at the
//     break): not generated (line breaks around a number are), pinned as a documented difference;
//   - phones: renderings of AR (national) and CO (stray trunk), numbers dialled with an
//     international prefix libphonenumber has as a pattern (MU 020...), non-geographic calling codes,
//     the union of possible lengths per calling code (+1 with 7 digits), and, for numbers the
//     generator cut short or ran long, anything but two different valid numbers: each named where
//     it is allowed, pinned with exact inputs; every other region and rendering must agree.
import fc from 'fast-check';
import { getCountries, getExampleNumber, Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callingCodes, phoneRegions } from '../../src/warehouse/sql/phone-metadata.js';
import { candidateOf, columnOf, ENGINES, openEngine, postgres, ruleOf, sentKey, type Engine, type EngineName, type KindRule, type RawRow } from './engines.js';
import * as ref from './reference.js';

const RUNS = Number(process.env.AUDSYNC_PROPERTY_RUNS ?? 20);
const REGIONS_ALL = getCountries();

// ---- alphabets --------------------------------------------------------------------------------------

/** JavaScript's \s, every one of them (the rule names them all). */
const WHITESPACE = [' ', '\t', '\n', '\r', '\f', '\u000b', '\u00a0', '\u1680', '\u2000', '\u2003', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
/** Letters whose lowercase is the same under simple and full case mapping (no 'İ', no sigma). */
const LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'éÉèÈêëäÄöÖüÜßñÑçÇøØåÅæÆœŒłŁžŽšŠčČıſ', ...'жЖдДяЯёЁαΑβΒωΩ', ...'日本한글אבعرب'];
const DIGITS = [...'0123456789'];
const ASCII_PUNCT = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
/** The typographic marks the rules name: curly quotes, dashes, guillemets, ellipsis, middle dot, inverted marks, ʼ. */
const TYPOGRAPHIC = [...'‘’‚‛“”„‟‐‑‒–—―«»…·¡¿ʼ'];
/** Digits that are not ASCII: Arabic-Indic, fullwidth, Devanagari, Thai. Not letters. */
const OTHER_DIGITS = [...'٣３५๓'];
/** Symbols and Unicode punctuation the rules do not list by name; an emoji without a variation selector. */
const SYMBOLS = [...'®°©€½²™★¶•‹›§。', '🙂'];
/**
 * Letters with a combining mark after them: composable (NFC: 'e' + U+0301 is 'é') or not ('q' +
 * U+0307, 'x' + U+0305, a Devanagari virama, a nukta, a Thai tone mark). A mark always follows a
 * letter here; a mark on a non-letter is pinned below.
 */
const MARKED = ['e\u0301', 'o\u0308', 'c\u0327', 'n\u0303', 'a\u030a', 'q\u0307', 'x\u0305', '\u092a\u094d', '\u0915\u093c', '\u0e2a\u0e48'];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const ws = pick(WHITESPACE);
const str = (alphabet: readonly string[], maxLength = 12, minLength = 0) => fc.string({ unit: pick(alphabet), minLength, maxLength });
/** Padding on both ends from `space`, up to 3 characters each. */
const padded = (inner: fc.Arbitrary<string>, space = ws) =>
  fc.tuple(fc.array(space, { maxLength: 3 }), inner, fc.array(space, { maxLength: 3 })).map(([a, s, b]) => a.join('') + s + b.join(''));
/** Random letter case, character by character. */
const anyCase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
/** Inserts up to `n` characters from `extra` at random places. */
const sprinkle = (s: string, extra: fc.Arbitrary<string>, n = 3) =>
  fc.array(fc.tuple(fc.nat({ max: s.length }), extra), { maxLength: n }).map((ins) => {
    let v = s;
    for (const [at, ch] of [...ins].sort((a, b) => b[0] - a[0])) v = v.slice(0, at) + ch + v.slice(at);
    return v;
  });
const hex64 = fc.string({ unit: pick([...'0123456789abcdef']), minLength: 64, maxLength: 64 });
const hashLike = fc.oneof(
  hex64.chain(anyCase).chain((h) => padded(fc.constant(h))),
  fc.string({ unit: pick([...'0123456789abcdefABCDEF']), minLength: 63, maxLength: 65 }),
);
const nullable = <T>(a: fc.Arbitrary<T>, weight = 1) => fc.oneof({ weight: 12, arbitrary: a }, { weight, arbitrary: fc.constant(null) });

// ---- generators per kind ----------------------------------------------------------------------------

const LOCAL = [...LETTERS.slice(0, 40), ...DIGITS, '.', '.', '+', '-', '_', "'"];
const DOMAINS = ['gmail.com', 'GMail.com', 'googlemail.com', 'GOOGLEMAIL.COM', 'example.com', 'Example.COM', 'exämple.de', 'mail.co.uk', 'gmail.co', 'gmailcom', 'x', '.com', 'a.b', ''];
const emailArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(str(LOCAL, 10), pick(['@', '@', '@', '@', '', '@@']), pick(DOMAINS), pick(['', '', '', '.', '..'])).map(([l, at, dom, tail]) => `${l}${at}${dom}${tail}`) },
    { weight: 2, arbitrary: hashLike },
    { weight: 1, arbitrary: str([...LOCAL, '@', ...WHITESPACE], 16) },
  ).chain((s) => sprinkle(s, ws, 2)).chain((s) => padded(fc.constant(s))),
);

const NAME_PARTS = [
  "O'Brien", 'Jean-Luc', 'Mary Ann', 'd’Arcy', 'José', 'Zoë', 'Łukasz', 'Nguyễn', 'Ærøskøbing', 'Жанна', '山田', 'St. John', 'Smith, Jr.',
  'Dr. Who?!', 'ʼAkau', 'ʻOlena', '«Anne»', 'Ann—Marie', 'R2D2', 'x_y', 'Jose\u0301', 'Zoe\u0308', 'प्रिया', 'क़मर', 'สมศักดิ์', 'محمّد', 'שָׁלוֹם',
  'Müller®', 'Ann•Marie', '‹Anne›', '§Smith', 'Ann🙂', '山田。', 'Omar٣', 'Anna３', 'Ana²½',
];
const nameArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof(
    { weight: 3, arbitrary: pick(NAME_PARTS).chain(anyCase) },
    { weight: 3, arbitrary: str([...LETTERS, ...DIGITS, ...ASCII_PUNCT, ...TYPOGRAPHIC, ...MARKED, ' ', ' ', '\t', '\u00a0'], 14) },
    { weight: 1, arbitrary: str([...LETTERS, ...MARKED, ...OTHER_DIGITS, ...SYMBOLS, ' '], 10) },
    { weight: 1, arbitrary: str([...DIGITS, ...OTHER_DIGITS, ...SYMBOLS, ...ASCII_PUNCT, ...WHITESPACE], 6) }, // nothing left: NULL
    { weight: 1, arbitrary: hashLike }, // passes through when sent hashed
  ).chain((s) => padded(fc.constant(s))),
);

const US_ZIPS = ['94105', '94105-1234', '941051234', '02134', '2134', '214', '21', '9410', '94105-123', '94105 1234', 'ABCDE', '12345-6789', '00501'];
const OTHER_ZIPS = ['SW1A 1AA', 'sw1a1aa', 'K1A 0B1', '75008', '10115', '00-950', '1010 AB', 'EC1A-1BB', '110001', 'D02 X285'];
const zipArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof(
    { weight: 3, arbitrary: fc.oneof(pick(US_ZIPS), pick(OTHER_ZIPS).chain(anyCase), str([...DIGITS, ...LETTERS.slice(0, 26), '-', ' '], 10)).chain((s) => sprinkle(s, ws, 1)) },
    { weight: 1, arbitrary: hashLike },
  ).chain((s) => padded(fc.constant(s))),
);

/** ISO codes in any case and punctuation, 'UK', unknown codes. */
const COUNTRY_CODES = ['US', 'GB', 'DE', 'FR', 'IT', 'IN', 'BR', 'CA', 'RU', 'KZ', 'AR', 'MX', 'JP', 'CN', 'AU', 'NZ', 'ZA', 'NG', 'UK', 'XX', 'ZZ', 'AQ', 'EU'];
/** Every region's English name as Node's ICU spells it ('Türkiye', 'St. Kitts & Nevis', 'Côte d’Ivoire'), precomposed. */
const DISPLAY = new Intl.DisplayNames(['en'], { type: 'region' });
const COUNTRY_NAMES = REGIONS_ALL.map((r) => DISPLAY.of(r)!);
/** The aliases docs/identity.md names, as people write them. */
const COUNTRY_ALIASES = ['UK', 'U.K.', 'Great Britain', 'England', 'Scotland', 'Wales', 'Northern Ireland', 'USA', 'U.S.A.', 'United States of America', 'Holland', 'South Korea', 'Russia'];
/** Spellings that are no code, no English short name and no alias: NULL, never their first two letters. */
const NOT_COUNTRIES = [
  'AUT', 'CHN', 'DEU', 'GBR', 'Deutschland', 'España', 'Österreich', 'Turkey', 'Reunion', 'Germ', 'Germanyy', 'Untied States', 'Bosnia and Herzegovina',
  'Hong Kong', 'Czech Republic', 'Europe', 'United', 'States', 'Kingdom', 'Korea', 'Antarctica', 'European Union', 'Ascension',
];
const countryArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof(
    { weight: 6, arbitrary: pick(COUNTRY_CODES).chain(anyCase).chain((c) => sprinkle(c, pick(['.', ' ', '-', '\u00a0']), 2)) },
    { weight: 4, arbitrary: pick(COUNTRY_NAMES).chain(anyCase).chain((c) => sprinkle(c, pick(['.', ' ', '-', '\u00a0', "'", '&', '1']), 2)) },
    { weight: 2, arbitrary: pick(COUNTRY_ALIASES).chain(anyCase) },
    { weight: 2, arbitrary: pick(NOT_COUNTRIES).chain(anyCase) },
    { weight: 1, arbitrary: pick(['', ' ', 'U', '1', '12', 'u.', '.']) },
    { weight: 1, arbitrary: hashLike }, // Meta COUNTRY is sent hashed
  ).chain((s) => padded(fc.constant(s))),
);

const uuid = fc.uuid().chain(anyCase);
const maidArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof(
    { weight: 6, arbitrary: uuid },
    { weight: 2, arbitrary: pick(['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001']) },
    { weight: 1, arbitrary: uuid.map((u) => u.replace(/-/g, '')) },
    { weight: 1, arbitrary: uuid.map((u) => `{${u}}`) },
    { weight: 1, arbitrary: uuid.map((u) => u.slice(1)) },
    { weight: 1, arbitrary: uuid.map((u) => u.replace(/^./, 'g')) },
    { weight: 1, arbitrary: hashLike },
  ).chain((s) => padded(fc.constant(s))),
);

const externalIdArb: fc.Arbitrary<string | null> = nullable(
  fc.oneof({ weight: 4, arbitrary: padded(str([...LETTERS.slice(0, 30), ...DIGITS, '-', '_', ' ', '\u00a0'], 12)) }, { weight: 1, arbitrary: hashLike }),
);

// ---- phones -----------------------------------------------------------------------------------------

const REGIONS = REGIONS_ALL;
const TRUNK = Object.fromEntries(phoneRegions().map((r) => [r.region, r.nationalPrefix]));
type PhoneFormat = 'national' | 'international' | '00' | 'trunk' | 'e164' | 'idd';
const PHONE_FORMATS: PhoneFormat[] = ['national', 'international', '00', 'trunk', 'e164', 'idd'];
/**
 * What a region dials before a foreign number when it is not plain 00, as libphonenumber has it:
 * a digit string (US 011, JP 010, RU 810, GY 001, NG 009), or its default where the metadata has a
 * pattern (AU 0011), or one spelling of the pattern picked here (BR 0021, CO 009, KR 001, ID 008).
 */
const PATTERN_IDD = new Set<string>();
const IDD: Map<string, string> = (() => {
  const plan = new Metadata() as unknown as { selectNumberingPlan(r: string): void; numberingPlan: { IDDPrefix(): unknown; defaultIDDPrefix(): unknown } };
  const picked: Record<string, string> = { BR: '0021', CO: '009', KR: '001', ID: '008' };
  return new Map(
    REGIONS.flatMap((r): [string, string][] => {
      plan.selectNumberingPlan(r);
      const idd = plan.numberingPlan.IDDPrefix();
      const fallback = plan.numberingPlan.defaultIDDPrefix();
      const plain = typeof idd === 'string' && /^\d+$/.test(idd);
      if (!plain) PATTERN_IDD.add(r);
      const prefix = plain ? (idd as string) : typeof fallback === 'string' && /^\d+$/.test(fallback) ? fallback : picked[r];
      return prefix && prefix !== '00' ? [[r, prefix]] : [];
    }),
  );
})();
const DIAL_FROM = [...IDD.keys()] as CountryCode[];
/**
 * Dialling regions whose own prefix phone.ts does not read, as phone-metadata.ts documents: "'00'
 * where the metadata has a pattern" (MU 020, AU 0011, BR 0021...). Those starting with 00 are read as
 * 00 by both sides, by the documented order ("'+', or the 00 most of the world dials, or the row
 * region's own prefix"); the others the SQL reads as national numbers (NULL), libphonenumber as its
 * prefix. Prefixes that are digit strings starting with 00 (GY and MN 001, KE 000, NG 009) are read
 * as 00 too, documented, and reported (NG '009 1 201 555 0123' becomes an Indian number).
 */
const DIAL_FROM_PATTERN = DIAL_FROM.filter((r) => PATTERN_IDD.has(r) && !IDD.get(r)!.startsWith('00'));

interface PhoneCase {
  region: CountryCode; // the example number's own region
  format: PhoneFormat;
  raw: string;
  /** The row's country identifier (national numbers need their own region; others any). */
  country: string | null;
  /** 'idd': the region dialling, whose international prefix leads. */
  from?: CountryCode;
}

/** Each region's example mobile number, as libphonenumber renders it in one format ('idd': dialled from `from`). */
function renderPhone(region: CountryCode, format: PhoneFormat, from: CountryCode = 'US'): string | null {
  const ex = getExampleNumber(region, examples);
  if (!ex) return null;
  const intl = ex.formatInternational();
  switch (format) {
    case 'national':
      return ex.formatNational();
    case 'international':
      return intl;
    case '00':
      return `00${intl.slice(1)}`;
    case 'trunk': {
      const np = TRUNK[region];
      if (!np) return null;
      return `+${ex.countryCallingCode} (${np})${intl.slice(1 + ex.countryCallingCode.length)}`;
    }
    case 'e164':
      return ex.number;
    case 'idd':
      return `${IDD.get(from)} ${intl.slice(1)}`;
  }
}

/** Extensions, which are not part of the number (docs/identity.md: dropped). */
const EXTENSIONS = ['', '', '', '', '', ' ext. 61', ' x12', ' #3', ' extension 5', ' EXT: 22', ';ext=9', ' x 7'];
/** Separators swapped, the first group in parentheses, an extension, padding (line breaks too): what CRMs hold. */
const punctuate = (raw: string) =>
  fc
    .tuple(
      fc.array(pick([' ', '-', '.', '/', '  ', '\u00a0', ' - ']), { minLength: 8, maxLength: 8 }),
      fc.boolean(),
      pick(EXTENSIONS),
      fc.array(ws, { maxLength: 2 }),
      fc.array(ws, { maxLength: 2 }),
    )
    .map(([seps, paren, ext, pre, post]) => {
      let i = 0;
      let v = raw.replace(/ /g, () => seps[i++ % seps.length]!);
      if (paren) v = v.replace(/^(\+?\d+)([^\d(])/, '($1)$2');
      return pre.join('') + v + ext + post.join('');
    });

/** The example rendered in one format; `lengthen` digits added (positive) or removed (negative) at its end. */
const phoneCaseOf = (lengthen: number) =>
  fc
    .tuple(pick(REGIONS), pick(PHONE_FORMATS), pick(REGIONS), pick(['own', 'none', 'other'] as const), pick(DIAL_FROM))
    .chain(([region, format, someRegion, whose, from]) => {
      const realFormat: PhoneFormat = renderPhone(region, format, from) ? format : 'international';
      let raw = renderPhone(region, realFormat, from)!;
      // dialled with a region's own international prefix, the row must be of that region
      const other = realFormat === 'idd' ? from : someRegion;
      if (lengthen < 0) raw = raw.replace(new RegExp(`(\\d[^\\d]*){${-lengthen}}$`), '');
      if (lengthen > 0) raw = `${raw}${'7'.repeat(lengthen)}`;
      // national numbers carry their own region; the others their own, another, or none (the default applies)
      const country = realFormat === 'idd' ? from : realFormat === 'national' || whose === 'own' ? region : whose === 'none' ? null : other;
      return fc.tuple(punctuate(raw), country === null ? fc.constant(null) : anyCase(country).chain((c) => padded(fc.constant(c), pick([' ', '\t'])))).map(
        ([r, c]): PhoneCase => ({ region, format: realFormat, raw: r, country: c, ...(realFormat === 'idd' ? { from } : {}) }),
      );
    });
const phoneCaseArb: fc.Arbitrary<PhoneCase> = phoneCaseOf(0);

/** Disagreements between the SQL and libphonenumber that are known and pinned below (region:format). */
const KNOWN_PHONE_DISAGREEMENTS = new Set(['AR:national', 'CO:trunk', ...DIAL_FROM_PATTERN.map((r) => `idd:${r}`)]);
/** The key a case is known by: region:format, or idd:<dialling region> (the prefix is what matters there). */
const caseKey = (c: PhoneCase) => (c.format === 'idd' ? `idd:${c.from}` : `${c.region}:${c.format}`);

// ---- the comparison ---------------------------------------------------------------------------------

interface Mismatch {
  /** The candidate column (n_<kind>__<rule>). */
  rule: string;
  /** The identifier (kind, rule, encoding) compared. */
  id: KindRule;
  raw: RawRow;
  defaultRegion: string;
  sql: { n: string | null; sent: string | null };
  ref: { n: string | null; sent: string | null };
}

/** Reference output for one row under one rule, with the row's region as the candidate computes it. */
function expected(row: RawRow, i: KindRule, defaultRegion: string) {
  const region = 'country' in row ? ref.rowRegion(row.country ?? null, defaultRegion) : defaultRegion;
  const n = ref.normalize(i.rule.normalizer, i.rule.encoding, row[i.kind] ?? null, { region });
  return { n, sent: ref.encode(n, i.rule.encoding) };
}

async function compare(engine: Engine, rows: RawRow[], ids: KindRule[], defaultRegion: string): Promise<{ mismatches: Mismatch[]; valid: number; total: number }> {
  const out = await candidateOf(engine, rows, ids, defaultRegion);
  const mismatches: Mismatch[] = [];
  let valid = 0;
  let total = 0;
  rows.forEach((row, r) => {
    for (const i of ids) {
      const col = columnOf(i);
      const want = expected(row, i, defaultRegion);
      const got = { n: out[r]!.n[col]!, sent: out[r]!.sent[sentKey(i)]! };
      total++;
      if (want.n !== null) valid++;
      if (got.n !== want.n || got.sent !== want.sent) mismatches.push({ rule: col, id: i, raw: row, defaultRegion, sql: got, ref: want });
    }
  });
  return { mismatches, valid, total };
}

const DEFAULT_REGIONS = ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'AU', 'JP'];

/**
 * Batches of random rows, drawn with fast-check from a seed printed on failure (AUDSYNC_PROPERTY_SEED
 * replays it). A failure lists the mismatching values themselves (raw row, rule, SQL, reference),
 * one per rule and distinct raw value, which is as small as a counterexample gets.
 */
const SEED = Number(process.env.AUDSYNC_PROPERTY_SEED ?? Date.now() % 2 ** 31);
function batches<T>(rowArb: fc.Arbitrary<T>, runs: number, min = 100, max = 300): [T[], string][] {
  return fc.sample(fc.tuple(fc.array(rowArb, { minLength: min, maxLength: max }), pick(DEFAULT_REGIONS)), { numRuns: runs, seed: SEED });
}
/** Raw values with invisible characters spelled out (\u00a0, \u0009), so a report can be copied into a test. */
const visible = (v: string | null | undefined) => (v == null ? v : v.replace(/[^\x20-\x7e]/gu, (ch) => (/[\p{L}\p{N}\p{P}\p{S}]/u.test(ch) ? ch : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`)));
const report = (mismatches: Mismatch[]) =>
  [...new Map(mismatches.map((m) => [`${m.rule}|${JSON.stringify(m.raw)}`, m])).values()].slice(0, 8).map((m) => ({
    seed: SEED,
    rule: m.rule,
    raw: Object.fromEntries(Object.entries(m.raw).map(([k, v]) => [k, visible(v)])),
    defaultRegion: m.defaultRegion,
    sql: m.sql.n,
    ref: m.ref.n,
    sentDiffers: m.sql.sent !== m.ref.sent,
  }));

/**
 * A property over batches of rows: every value of every rule equals the reference, except mismatches
 * `known` says are pinned below; both sides of the rules are reached.
 */
async function property(
  engine: Engine,
  rowArb: fc.Arbitrary<RawRow>,
  ids: KindRule[],
  bounds: { minValid: number; maxValid: number },
  known: (m: Mismatch) => boolean = () => false,
  runs = RUNS,
) {
  let valid = 0;
  let total = 0;
  const unexplained: Mismatch[] = [];
  for (const [rows, defaultRegion] of batches(rowArb, runs)) {
    const result = await compare(engine, rows, ids, defaultRegion);
    valid += result.valid;
    total += result.total;
    unexplained.push(...result.mismatches.filter((m) => !known(m)));
  }
  expect(report(unexplained)).toEqual([]);
  // The generator must reach both sides of the rules, or the property proves little.
  expect(valid / total).toBeGreaterThan(bounds.minValid);
  expect(valid / total).toBeLessThan(bounds.maxValid);
}

const R = {
  email: { kind: 'email', rule: ruleOf('email') },
  emailGoogle: { kind: 'email', rule: ruleOf('email_google') },
  phoneDigits: { kind: 'phone', rule: ruleOf('phone_digits') },
  phoneE164: { kind: 'phone', rule: ruleOf('phone_e164') },
  firstName: { kind: 'first_name', rule: ruleOf('name', 'sha256', 'attribute') },
  firstNameGoogle: { kind: 'first_name', rule: ruleOf('name_google', 'sha256', 'attribute') },
  lastName: { kind: 'last_name', rule: ruleOf('name', 'sha256', 'attribute') },
  lastNameGoogle: { kind: 'last_name', rule: ruleOf('name_google', 'sha256', 'attribute') },
  city: { kind: 'city', rule: ruleOf('city', 'sha256', 'attribute') },
  state: { kind: 'state', rule: ruleOf('state', 'sha256', 'attribute') },
  zip: { kind: 'zip', rule: ruleOf('zip', 'sha256', 'attribute') },
  postalCode: { kind: 'zip', rule: ruleOf('postal_code', 'plain', 'attribute') },
  countryLower: { kind: 'country', rule: ruleOf('country_lower', 'sha256', 'attribute') },
  countryUpper: { kind: 'country', rule: ruleOf('country_upper', 'plain', 'attribute') },
  maid: { kind: 'maid', rule: ruleOf('maid', 'plain') },
  maidHashed: { kind: 'maid', rule: ruleOf('maid', 'sha256') },
  externalId: { kind: 'external_id', rule: ruleOf('trimmed', 'plain') },
  externalIdHashed: { kind: 'external_id', rule: ruleOf('trimmed', 'sha256') },
} satisfies Record<string, KindRule>;

const phoneRow = (c: PhoneCase): RawRow => ({ phone: c.raw, country: c.country });
const UNION_LENGTHS = new Map(callingCodes().map((c) => [c.callingCode, c.lengths]));
/**
 * Documented simplification (phone-metadata.ts: "lengths: union over the regions sharing the code"):
 * an international number is checked against the possible lengths of every region of its calling
 * code, libphonenumber against the region it resolves to. So the SQL accepts what libphonenumber
 * calls impossible, e.g. '+1 670 2345': 7 digits are possible in CA, not in MP or the US.
 */
const unionLength = (m: Mismatch) => {
  if (m.ref.n !== null || m.sql.n === null) return false;
  const parsed = parsePhoneNumberFromString(`+${m.sql.n.replace(/^\+/, '')}`);
  if (!parsed) return false;
  return (UNION_LENGTHS.get(parsed.countryCallingCode) ?? '').includes(`,${parsed.nationalNumber.length},`) && !parsed.isPossible();
};
const NAME_RULES = new Set(['n_first_name__name', 'n_last_name__name', 'n_city__city', 'n_state__state']);
/**
 * Postgres only: its [:alpha:] is glibc's class, which keeps non-ASCII digits ('٣', '３'), letter
 * numbers and circled letters, and drops some combining marks NFC cannot compose (a virama, a
 * nukta, a Thai thanthakhat). A mismatch is that and nothing else when both sides are equal once
 * marks, numbers and other symbols are set aside: pinned below with exact inputs.
 */
const postgresAlpha = (m: Mismatch) => {
  const rest = (v: string | null) => (v ?? '').replace(/[\p{M}\p{N}\p{So}]/gu, '');
  return NAME_RULES.has(m.rule) && rest(m.sql.n) === rest(m.ref.n);
};
/**
 * The candidate keeps one column per kind and rule (n_maid__maid), whatever the encoding, but the
 * pass-through of an existing hash depends on the encoding: when a plain rule (Meta MADID, EXTERN_ID)
 * and a hashed one share a column, the first asked for decides for both, for values that are hashes.
 * Allowed where `ids` hold both encodings of a rule; pinned below (it.fails).
 */
const sharedColumn = (ids: KindRule[]) => {
  const shared = new Set(ids.filter((i) => ids.some((j) => columnOf(j) === columnOf(i) && j.rule.encoding !== i.rule.encoding)).map(columnOf));
  return (m: Mismatch) => shared.has(m.rule) && ref.prehashed(m.raw[m.id.kind] ?? null) !== null;
};
const validNumber = (n: string | null) => n !== null && parsePhoneNumberFromString(`+${n.replace(/^\+/, '')}`)?.isValid() === true;
/**
 * For numbers the generator cut short or ran long (garbage in), documented simplification "validity
 * patterns vs our length check": libphonenumber strips prefixes and completes local numbers only
 * when its number patterns allow, the SQL whenever the length is possible. Allowed as long as the
 * two do not both produce valid numbers that differ; every other disagreement is unexplained.
 */
const mangledEitherWay = (m: Mismatch) => !(validNumber(m.sql.n) && validNumber(m.ref.n));
/**
 * Non-geographic calling codes (+800, +808, +870, +878, +881, +882, +883, +888, +979) belong to no
 * region, and phone-metadata.ts reads calling codes from regions, so the SQL refuses them (NULL).
 */
const nonGeographic = (m: Mismatch) => m.sql.n === null && m.ref.n !== null && parsePhoneNumberFromString(`+${m.ref.n.replace(/^\+/, '')}`)?.country === undefined;
const isKnown = (m: Mismatch, cases: Map<string, PhoneCase>) => {
  const c = cases.get(m.raw.phone ?? '');
  return c !== undefined && KNOWN_PHONE_DISAGREEMENTS.has(caseKey(c));
};

// ---- the properties, per engine ---------------------------------------------------------------------

describe.each(ENGINES)('SQL normalization equals the reference on %s (fast-check)', (name) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openEngine(name);
  });
  afterAll(async () => {
    await engine?.close();
  });

  /** The allowances of this engine for names (see postgresAlpha). */
  const nameKnown = (m: Mismatch) => name === 'postgres' && postgresAlpha(m);

  it("email and email_google: case, whitespace (Unicode too), dots, gmail/googlemail dots and +tags, a bare 'gmail.com', hashes", async () => {
    await property(engine, emailArb.map((email) => ({ email })), [R.email, R.emailGoogle], { minValid: 0.2, maxValid: 0.85 });
  });

  it('names (Meta name, Google name_google), cities and states: case, padding, apostrophes, hyphens, accents (NFC), marks, scripts, digits, symbols, hashes', async () => {
    const row = fc.record({ first_name: nameArb, last_name: nameArb, city: nameArb, state: nameArb });
    await property(engine, row, [R.firstName, R.firstNameGoogle, R.lastName, R.lastNameGoogle, R.city, R.state], { minValid: 0.5, maxValid: 0.97 }, nameKnown);
  });

  it("zip (Meta) and postal_code (Google) under the row's region: ZIP+4 (inner whitespace too), short US zips, foreign codes, hashes", async () => {
    const row = fc.record({ zip: zipArb, country: countryArb });
    await property(engine, row, [R.zip, R.postalCode], { minValid: 0.3, maxValid: 0.95 });
  });

  it("country_lower and country_upper: ' us ', 'Uk', 'gb', 'XX', English names, aliases, three-letter codes and other spellings, punctuation, hashes", async () => {
    await property(engine, countryArb.map((country) => ({ country })), [R.countryLower, R.countryUpper], { minValid: 0.3, maxValid: 0.9 });
  });

  // plain and hashed each in a candidate of its own (they share a column: see sharedColumn)
  it('maid (plain and hashed): upper and lower case, padding, the all-zero id, malformed ids, hashes', async () => {
    await property(engine, maidArb.map((maid) => ({ maid })), [R.maid], { minValid: 0.3, maxValid: 0.9 });
    await property(engine, maidArb.map((maid) => ({ maid })), [R.maidHashed], { minValid: 0.3, maxValid: 0.9 });
  });

  it('external ids (trimmed, plain and hashed): padding kept out, inner whitespace kept, hashes', async () => {
    await property(engine, externalIdArb.map((external_id) => ({ external_id })), [R.externalId], { minValid: 0.5, maxValid: 0.99 });
    await property(engine, externalIdArb.map((external_id) => ({ external_id })), [R.externalIdHashed], { minValid: 0.5, maxValid: 0.99 });
  });

  it("phones of every region, national / international / 00 / the row region's own prefix (011) / stray (0) / E.164, punctuated, with extensions: E.164 as libphonenumber-js parses it", async () => {
    // One sweep of every region in every format, canonical renderings, then random punctuation.
    const sweep: PhoneCase[] = REGIONS.flatMap((region, i) =>
      PHONE_FORMATS.flatMap((format) => {
        const from = DIAL_FROM[i % DIAL_FROM.length]!;
        const raw = renderPhone(region, format, from);
        return raw ? [{ region, format, raw, country: format === 'national' ? region : format === 'idd' ? from : null, ...(format === 'idd' ? { from } : {}) }] : [];
      }),
    );
    // and every dialling region dials the same few numbers with its own prefix
    for (const from of DIAL_FROM) {
      for (const region of ['GB', 'SH', 'US', 'DE', 'IN'] as CountryCode[]) sweep.push({ region, format: 'idd', raw: renderPhone(region, 'idd', from)!, country: from, from });
    }
    expect(sweep.length).toBeGreaterThan(1000);
    const cases = new Map(sweep.map((c) => [c.raw, c]));
    const first = await compare(engine, sweep.map(phoneRow), [R.phoneDigits, R.phoneE164], 'US');
    expect(report(first.mismatches.filter((m) => !isKnown(m, cases)))).toEqual([]);
    // Every known disagreement still happens (so a fix is noticed and the list shrinks); pattern
    // prefixes only where this sweep happens to trip over them.
    const seen = new Set(first.mismatches.map((m) => caseKey(cases.get(m.raw.phone!)!)));
    expect([...seen].filter((k) => !DIAL_FROM_PATTERN.some((r) => k === `idd:${r}`)).sort()).toEqual(['AR:national', 'CO:trunk']);
    // (some numbers dialled with a 00-prefix are NULL on both sides: '001 44 ...' reads as +1 44...)
    expect(first.valid / first.total).toBeGreaterThan(0.9);

    let valid = 0;
    let total = 0;
    const unexplained: Mismatch[] = [];
    const unionAccepted: Mismatch[] = [];
    const byLength = new Map<string, number>();
    const formatOf = new Map<string, PhoneFormat>();
    const lengthened = fc.integer({ min: -3, max: 3 }).chain((n) => phoneCaseOf(n).map((c) => ({ ...c, lengthen: n })));
    for (const [phones, defaultRegion] of batches(fc.oneof({ weight: 4, arbitrary: phoneCaseArb.map((c) => ({ ...c, lengthen: 0 })) }, { weight: 1, arbitrary: lengthened }), RUNS)) {
      const byRaw = new Map(phones.map((c) => [c.raw, c]));
      for (const c of phones) {
        byLength.set(c.raw, c.lengthen);
        formatOf.set(c.raw, c.format);
      }
      const result = await compare(engine, phones.map(phoneRow), [R.phoneDigits, R.phoneE164], defaultRegion);
      valid += result.valid;
      total += result.total;
      const mangled = (m: Mismatch) => byLength.get(m.raw.phone!) !== 0 && mangledEitherWay(m);
      unexplained.push(...result.mismatches.filter((m) => !isKnown(m, byRaw) && !unionLength(m) && !mangled(m) && !nonGeographic(m)));
      unionAccepted.push(...result.mismatches.filter(unionLength));
    }
    // the union-length allowance is only taken for numbers made too short or too long here, and for
    // a 00-prefix read as 00 ('0011 290 8999' from AU reads as +1 2908999, pinned below)
    expect(report(unionAccepted.filter((m) => byLength.get(m.raw.phone!) === 0 && formatOf.get(m.raw.phone!) !== 'idd'))).toEqual([]);
    expect(report(unexplained)).toEqual([]);
    expect(valid / total).toBeGreaterThan(0.5);
    expect(valid / total).toBeLessThan(0.97);
  });

  it('all kinds in one candidate: the rules do not disturb each other (one row, every rule)', async () => {
    const row = fc.record({
      email: emailArb, phone: phoneCaseArb.map((c) => c.raw), first_name: nameArb, last_name: nameArb, zip: zipArb, city: nameArb, state: nameArb,
      country: countryArb, maid: maidArb, external_id: externalIdArb,
    });
    const all = Object.values(R) as KindRule[];
    // phone regions vs renderings are random here (phones are checked above); names as above; a hash
    // under a column shared by a plain and a hashed rule (pinned below)
    const shared = sharedColumn(all);
    const known = (m: Mismatch) => m.rule.startsWith('n_phone__') || nameKnown(m) || shared(m);
    let checked = 0;
    const unexplained: Mismatch[] = [];
    for (const [rows, defaultRegion] of batches(row, Math.max(3, Math.round(RUNS / 3)), 100, 200)) {
      const result = await compare(engine, rows, all, defaultRegion);
      checked += result.total;
      unexplained.push(...result.mismatches.filter((m) => !known(m)));
    }
    expect(report(unexplained)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('already-hashed values (64 hex digits, any case, padded) pass through every kind sent hashed, phones included; kinds sent plain read them as any value', async () => {
    const hashOr = (a: fc.Arbitrary<string | null>) => fc.oneof({ weight: 3, arbitrary: hashLike }, { weight: 1, arbitrary: a });
    const row = fc.record({
      email: hashOr(emailArb), phone: nullable(hashLike), first_name: hashOr(nameArb), last_name: hashOr(nameArb), zip: hashOr(zipArb), city: hashOr(nameArb),
      state: hashOr(nameArb), country: hashOr(countryArb), maid: hashOr(maidArb), external_id: hashOr(externalIdArb),
    });
    // plain and hashed MADIDs and external ids in candidates of their own (see sharedColumn)
    const all = Object.values(R) as KindRule[];
    const plainFirst = all.filter((i) => i !== R.maidHashed && i !== R.externalIdHashed);
    let passed = 0;
    const unexplained: Mismatch[] = [];
    for (const [rows, defaultRegion] of batches(row, Math.max(3, Math.round(RUNS / 3)), 100, 200)) {
      for (const ids of [plainFirst, [R.maidHashed, R.externalIdHashed]]) {
        const result = await compare(engine, rows, ids, defaultRegion);
        unexplained.push(...result.mismatches.filter((m) => !nameKnown(m)));
      }
      for (const r of rows) for (const i of all) if (i.rule.encoding === 'sha256' && ref.prehashed(r[i.kind] ?? null) !== null) passed++;
    }
    expect(report(unexplained)).toEqual([]);
    expect(passed).toBeGreaterThan(500); // hashes did reach every rule, phones included
  });
});

// ---- known disagreements, pinned with exact inputs -------------------------------------------------
//
// `it.fails` marks what is wrong and not fixed yet ("certain": remove `.fails` once fixed, the test
// then passes); plain `it` pins a documented simplification or engine difference as it is.

describe.each(ENGINES)('known disagreements between the rules and the SQL, exact inputs, on %s', (name) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openEngine(name);
  });
  afterAll(async () => {
    await engine?.close();
  });
  const one = async (row: RawRow, i: KindRule, defaultRegion = 'US') => (await candidateOf(engine, [row], [i], defaultRegion))[0]!.n[columnOf(i)];
  const many = async (rows: RawRow[], i: KindRule, defaultRegion = 'US') => (await candidateOf(engine, rows, [i], defaultRegion)).map((o) => o.n[columnOf(i)]);

  // Full case mapping (JavaScript, Python's str.lower(), so Meta's and Snap's SDKs) lowers 'İ' to
  // 'i' + U+0307 and a word-final 'Σ' to 'ς'; DuckDB's and Postgres' lower() map character by
  // character ('i', 'σ'). Greek surnames in capitals (common in CRMs) are hashed differently from the
  // SDKs': the sent hash of 'ΠΑΠΑΔΟΠΟΥΛΟΣ' is sha256('παπαδοπουλοσ'), the SDKs' sha256('παπαδοπουλος').
  it("case mapping (documented simplification): engines lower 'İ' to 'i' and a final 'Σ' to 'σ'; JavaScript and Python give 'i̇' and 'ς'", async () => {
    const rows: RawRow[] = [{ email: 'İNCE@X.COM', last_name: 'ΠΑΠΑΔΟΠΟΥΛΟΣ' }];
    const out = await candidateOf(engine, rows, [R.email, R.lastName]);
    expect(out[0]!.n).toEqual({ n_email__email: 'ince@x.com', n_last_name__name: 'παπαδοπουλοσ' });
    expect([ref.email('İNCE@X.COM'), ref.name('ΠΑΠΑΔΟΠΟΥΛΟΣ')]).toEqual(['i\u0307nce@x.com', 'παπαδοπουλος']);
  });

  // ---- names, cities, states: letters only (NFC) ----------------------------------------------------

  // Fixed: symbols, Unicode punctuation and emoji go, a decomposed accent is composed (NFC).
  it.each([
    ['a registered sign', 'Müller®', 'müller'],
    ['a degree sign', 'Ann°', 'ann'],
    ['a bullet', 'Ann•Marie', 'annmarie'],
    ['single guillemets', '‹Anne›', 'anne'],
    ['a section sign', '§Smith', 'smith'],
    ['a combining acute accent (José typed as NFD): composed', 'Jose\u0301', 'jos\u00e9'],
    ['an emoji', 'Ann🙂', 'ann'],
    ['an ideographic full stop', '山田。', '山田'],
    ['superscript and fraction digits (No)', 'Ana²½', 'ana'],
  ])('name, city, state: %s, %j -> %j', async (_what, raw, letters) => {
    expect(ref.name(raw)).toBe(letters);
    const out = await candidateOf(engine, [{ first_name: raw, city: raw, state: raw }], [R.firstName, R.city, R.state]);
    expect(out[0]!.n).toEqual({ n_first_name__name: letters, n_city__city: letters, n_state__state: letters });
  });

  // Postgres' [:alpha:] is glibc's character class, which counts the decimal digits of other scripts
  // (Arabic-Indic, Devanagari, fullwidth...) and letter numbers (Roman numerals) as alphabetic; the
  // Postgres dialect takes Unicode's numbers (\p{N}) out after it, so they go on every engine.
  it.each([
    ['an Arabic-Indic digit', 'Omar٣', 'omar'],
    ['a fullwidth digit', 'Anna３', 'anna'],
    ['a Devanagari digit', 'Priya५', 'priya'],
    ['a Roman numeral (a letter number, Nl)', 'Henry Ⅷ', 'henry'],
  ])('name: %s, %j -> %j', async (_what, raw, letters) => {
    expect(ref.name(raw)).toBe(letters);
    expect(await one({ first_name: raw }, R.firstName)).toBe(letters);
  });

  // Combining marks NFC cannot compose belong to their letter: a Devanagari virama (प्र) or nukta
  // (क़ decomposes under NFC), a Thai thanthakhat, 'q' + dot above. The rule and DuckDB keep them
  // (\p{M}); Postgres' [:alpha:] keeps some marks (Arabic shadda, Hebrew points, Devanagari vowel
  // signs) and drops others, so the same Hindi or Thai name hashes differently on Postgres than on
  // DuckDB and than an SDK that keeps the whole name. Engine difference, documented (docs/identity.md).
  it('combining marks NFC cannot compose: kept with their letter (DuckDB); some dropped on Postgres (engine difference)', async () => {
    const raws = ['प्रिया', 'क़मर', 'สมศักดิ์', 'q\u0307', 'محمّد', 'שָׁלוֹם', 'Nguyễn'];
    const kept = ['\u092a\u094d\u0930\u093f\u092f\u093e', '\u0915\u093c\u092e\u0930', '\u0e2a\u0e21\u0e28\u0e31\u0e01\u0e14\u0e34\u0e4c', 'q\u0307', 'محمّد', 'שָׁלוֹם', 'nguyễn'];
    expect(raws.map((r) => ref.name(r))).toEqual(kept);
    const onPostgres = ['\u092a\u0930\u093f\u092f\u093e', '\u0915\u092e\u0930', '\u0e2a\u0e21\u0e28\u0e31\u0e01\u0e14\u0e34', 'q', 'محمّد', 'שָׁלוֹם', 'nguyễn'];
    expect(await many(raws.map((first_name) => ({ first_name })), R.firstName)).toEqual(name === 'postgres' ? onPostgres : kept);
  });

  // A combining mark on something that is not a letter belongs to what is dropped: the variation
  // selector U+FE0F of an emoji ('❤️' is U+2764 U+FE0F), a keycap's U+20E3. The RE2 engines keep
  // marks (\p{M}) for the letters they belong to, so marks on anything else are dropped first.
  it.each([
    ['an emoji with its variation selector', 'Anna ❤️', 'anna'],
    ['another', 'Mike ✌️', 'mike'],
    ['a keycap', 'Bo 3️⃣', 'bo'],
    ['a mark at the start', '\u0301Zoë', 'zoë'],
  ])('name: %s, %j -> %j', async (_what, raw, letters) => {
    expect(ref.name(raw)).toBe(letters);
    expect(await one({ first_name: raw }, R.firstName)).toBe(letters);
  });

  // Modifier letters are letters (Lm): 'dʼArcy' written with U+02BC keeps it under `name` (so it
  // hashes apart from 'd’Arcy' with U+2019, which is 'darcy'), while name_google lists U+02BC as an
  // apostrophe. As specified; pinned so a change is deliberate.
  it("modifier letters (U+02BC, U+02BB) are letters to `name`; name_google drops U+02BC", async () => {
    const out = await candidateOf(engine, [{ first_name: 'dʼArcy' }, { first_name: 'ʻOlena' }, { first_name: 'd’Arcy' }], [R.firstName, R.firstNameGoogle]);
    expect(out.map((o) => [o.n.n_first_name__name, o.n.n_first_name__name_google])).toEqual([
      ['dʼarcy', 'darcy'],
      ['ʻolena', 'ʻolena'],
      ['darcy', 'darcy'],
    ]);
  });

  // name_google's rule: "lowercase, no punctuation": ASCII punctuation, U+02BC, and every Unicode
  // punctuation mark (\p{P}, as a class of the characters themselves, so every engine reads it).
  it.each([
    ['single guillemets', '‹Anne›', 'anne'],
    ['a bullet', 'Ann•Marie', 'annmarie'],
    ['a section sign', '§Smith', 'smith'],
    ['an ideographic full stop', '山田。', '山田'],
    ['curly quotes and a dash', '“Mary–Ann”', 'maryann'],
  ])('name_google: %s, %j -> %j', async (_what, raw, want) => {
    expect(ref.nameGoogle(raw)).toBe(want);
    expect(await one({ first_name: raw }, R.firstNameGoogle)).toBe(want);
  });

  it('name_google collapses inner whitespace runs to one space (google-ads-python keeps them: strip().lower())', async () => {
    expect(await one({ first_name: '  Mary \u00a0 Ann  ' }, R.firstNameGoogle)).toBe('mary ann');
  });

  // ---- countries --------------------------------------------------------------------------------------

  // Fixed: a spelled-out country is read by its English name, never by its first two letters, for
  // Google's regionCode, Meta's COUNTRY (a deliberate departure from Meta's SDK, whose [:2] hashes
  // 'Germany' as 'ge') and the row's phone region; a three-letter code is NULL.
  it.each([
    ['Germany', 'DE'],
    ['Ukraine', 'UA'],
    ['Austria', 'AT'],
    ['AUT', null],
    ['China', 'CN'],
    ['CHN', null],
    ['Denmark', 'DK'],
    ['Ireland', 'IE'],
    ['Israel', 'IL'],
    ['Netherlands', 'NL'],
    ['Indonesia', 'ID'],
    ['Mexico', 'MX'],
  ])('country %j is %j (Google regionCode and Meta COUNTRY), never its first two letters', async (raw, code) => {
    expect(ref.countryUpper(raw)).toBe(code);
    const out = await candidateOf(engine, [{ country: raw }], [R.countryUpper, R.countryLower]);
    expect(out[0]!.n).toEqual({ n_country__country_upper: code, n_country__country_lower: code?.toLowerCase() ?? null });
  });

  it.each([
    ['050 123 4567', 'Ukraine', 'UA', '+380501234567'], // was +44501234567 (read as British)
    ['0664 123456', 'Austria', 'AT', '+43664123456'], // was +61664123456 (Australian)
    ['20 12 34 56', 'Denmark', 'DK', '+4520123456'], // was +4920123456 (German)
  ])('national %j with country %j is read in that country (%s: %j)', async (phone, country, iso, right) => {
    expect(ref.phoneE164(phone, iso)).toBe(right); // libphonenumber, given the right region
    expect(await one({ phone, country }, R.phoneE164)).toBe(right);
  });

  // What is a country name: the English short names of Node's ICU (Intl.DisplayNames), letters
  // only, and the listed aliases (including common alternatives to ICU's short names: 'Turkey',
  // 'Hong Kong', 'Czech Republic', 'Ivory Coast', 'Reunion'); nothing else (docs/identity.md).
  it('spellings read as a country, and spellings that are not one', async () => {
    const cases: [string, string | null][] = [
      ['U.S.A.', 'US'], ['United States', 'US'], ['united-states', 'US'], ['UNITED STATES OF AMERICA', 'US'], [' u.k. ', 'GB'], ['Great Britain', 'GB'],
      ['England', 'GB'], ['Holland', 'NL'], ['South Korea', 'KR'], ['Russia', 'RU'], ['Türkiye', 'TR'], ['Côte d’Ivoire', 'CI'], ['St. Kitts & Nevis', 'KN'],
      ['Bosnia & Herzegovina', 'BA'], ['Deutschland', null], ['Turkey', 'TR'], ['Bosnia and Herzegovina', 'BA'], ['Hong Kong', 'HK'], ['Czech Republic', 'CZ'],
      ['Ivory Coast', 'CI'], ['Reunion', 'RE'], ['Saint Kitts and Nevis', null], ['Europe', null], ['Antarctica', null], ['DEU', null],
    ];
    expect(cases.map(([raw]) => ref.countryUpper(raw))).toEqual(cases.map(([, code]) => code));
    expect(await many(cases.map(([country]) => ({ country })), R.countryUpper)).toEqual(cases.map(([, code]) => code));
  });

  // Fixed: regionSql reads a country from its letters (NFC), like `name`: an accented name typed
  // decomposed still matches, and a non-ASCII letter never leaves a stray two-letter code behind.
  it.each([
    ['Re\u0301union', 'RE'], // NFD
    ['Tu\u0308rkiye', 'TR'], // NFD
    ['São', null],
    ['USА', null], // Cyrillic А
  ])('country %j (non-ASCII letters) is %j', async (raw, code) => {
    expect(ref.countryUpper(raw)).toBe(code);
    expect(await one({ country: raw }, R.countryUpper)).toBe(code);
  });

  // ---- phones -----------------------------------------------------------------------------------------

  // Fixed: a number written with '+' is international with line breaks around it (a CSV cell, a pasted block).
  it("a '+' number with line breaks before or after it is international", async () => {
    const rows: RawRow[] = [
      { phone: '+44 20 7946 0958\n', country: 'US' },
      { phone: '\n+33 6 12 34 56 78\n', country: 'US' },
      { phone: '+1 415 555 0134\r\n', country: 'GB' },
      { phone: '\u2028+44 20 7946 0958 x12\n', country: 'US' },
    ];
    const want = ['+442079460958', '+33612345678', '+14155550134', '+442079460958'];
    expect(rows.map((r) => ref.phoneE164(r.phone!, r.country!))).toEqual(want);
    expect(await many(rows, R.phoneE164)).toEqual(want);
  });

  // Documented difference: the SQL reads every digit of the value, so a line break inside a number
  // is one more separator; libphonenumber stops at it and finds no number.
  it('a line break inside a number: the SQL reads every digit, libphonenumber none', async () => {
    const rows: RawRow[] = [
      { phone: '+44 20\n7946 0958', country: 'US' },
      { phone: '+44\n20 7946 0958', country: 'US' },
    ];
    expect(rows.map((r) => ref.phoneE164(r.phone!, r.country!))).toEqual([null, null]);
    expect(await many(rows, R.phoneE164)).toEqual(['+442079460958', '+442079460958']);
  });

  it('letters between digits make no phone (a near-hash of 63 hex digits, a typo); letters around the number are skipped', async () => {
    // A random seed (649292821) once drew a 63-digit hex string with 16 decimal digits, which the
    // SQL read as a Japanese number while libphonenumber refuses it.
    const cases: [string, string | null][] = [
      ['6eCEAb4EaE7CaEE1bddCDFcCFc4FD1DcdaBfbC3b7c5d89dB2fdec2dBCA21fD2', null],
      ['415 555 01a34', null],
      ['4155550134 mob 2', null],
      ['tel: 415 555 0134', '+14155550134'],
      ['415 555 0134 (mobile)', '+14155550134'],
      ['mobile 4155550134', '+14155550134'],
      ['415 555 0134 x12', '+14155550134'],
    ];
    const region = (raw: string) => (raw.startsWith('6e') ? 'JP' : 'US');
    expect(cases.map(([raw]) => ref.phoneE164(raw, region(raw)))).toEqual(cases.map(([, want]) => want));
    const got: (string | null)[] = [];
    for (const [raw] of cases) got.push((await one({ phone: raw, country: region(raw) }, R.phoneE164)) ?? null);
    expect(got).toEqual(cases.map(([, want]) => want));
  });

  it('AR national mobile: libphonenumber rewrites 0 11 15-xxxx-xxxx to +54 9 11 xxxx xxxx; the SQL refuses it (NULL, not sent)', async () => {
    const raw = '011 15-2345-6789';
    expect(ref.phoneE164(raw, 'AR')).toBe('+5491123456789');
    expect(await one({ phone: raw, country: 'AR' }, R.phoneE164)).toBeNull();
    // the international form is fine
    expect(await one({ phone: '+54 9 11 2345-6789', country: 'AR' }, R.phoneE164)).toBe('+5491123456789');
  });

  // Belarus: libphonenumber strips '80', '8' or '0' (national_prefix_for_parsing '0|80?'), and
  // Lithuania '0' or '8' ('[08]'): the SQL tries each such literal prefix, longest first.
  it.each([
    ['BY', '8 029 491-19-11', '+375294911911'],
    ['BY', '029 491-19-11', '+375294911911'],
    ['BY', '8 017 123-45-67', '+375171234567'],
    ['LT', '8 612 34567', '+37061234567'],
    ['LT', '0 612 34567', '+37061234567'],
  ])('%s national %j is %s, as libphonenumber parses it', async (country, raw, e164) => {
    expect(ref.phoneE164(raw, country)).toBe(e164);
    expect(await one({ phone: raw, country }, R.phoneE164)).toBe(e164);
  });

  it("CO with a stray trunk '(0)': the SQL drops it (phone.ts documents the '+49 (0)30' mistake); libphonenumber keeps it and gets an invalid number", async () => {
    const raw = '+57 (0) 321 1234567';
    expect(await one({ phone: raw, country: 'CO' }, R.phoneE164)).toBe('+573211234567');
    expect(ref.phoneE164(raw, 'CO')).toBe('+5703211234567');
    expect(parsePhoneNumberFromString('+5703211234567')!.isValid()).toBe(false);
    expect(parsePhoneNumberFromString('+573211234567')!.isValid()).toBe(true);
  });

  // Documented simplifications whose outcome is worth knowing, pinned as they are today (report):
  // 00 is read before the row region's own prefix, the +1 lengths are a union that includes Canada's
  // 7-digit numbers, prefixes that are patterns are not read, non-geographic codes are unknown.
  it('documented phone simplifications, exact inputs and what they give today', async () => {
    const rows: RawRow[] = [
      { phone: '009 1 201 555 0123', country: 'NG' }, // NG dials 009: read as 00 + 91 (India)
      { phone: '001 290 8999', country: 'GY' }, // GY dials 001: read as 00 + 1, 7 digits, accepted
      { phone: '0011 290 8999', country: 'AU' }, // AU dials 0011: the same
      { phone: '+1 670 2345', country: 'US' }, // 7 digits after +1: possible in CA only
      { phone: '020 44 7400 123456', country: 'MU' }, // MU dials 020 (a pattern in the metadata): national, NULL
      { phone: '+800 1234 5678', country: 'US' }, // a non-geographic code: NULL
    ];
    const out = await candidateOf(engine, rows, [R.phoneE164]);
    expect(out.map((o) => o.n.n_phone__phone_e164)).toEqual(['+912015550123', '+12908999', '+12908999', '+16702345', null, null]);
    // what libphonenumber-js makes of them with the row's region (no 00 rewriting)
    const lib = rows.map((r) => {
      const p = parsePhoneNumberFromString(r.phone!, r.country as CountryCode);
      return p?.isPossible() ? p.number : null;
    });
    expect(lib).toEqual(['+12015550123', '+2908999', '+2908999', null, '+447400123456', '+80012345678']);
  });

  // ---- already-hashed values --------------------------------------------------------------------------

  // Fixed (issue #3, item 4: "values that are already SHA-256 pass through unhashed; nothing is ever
  // hashed twice"): every kind sent hashed, not only emails; padded and in capitals too.
  const HASHED = ref.sha256('john');
  it.each([
    ['email (email)', R.email],
    ['email (email_google)', R.emailGoogle],
    ['phone (phone_digits)', R.phoneDigits],
    ['phone (phone_e164)', R.phoneE164],
    ['first_name', R.firstName],
    ['first_name (name_google)', R.firstNameGoogle],
    ['last_name', R.lastName],
    ['city', R.city],
    ['state', R.state],
    ['zip', R.zip],
    ['country (country_lower)', R.countryLower],
    ['maid (hashed)', R.maidHashed],
    ['external_id (hashed)', R.externalIdHashed],
  ] as [string, KindRule][])('an already hashed %s passes through unhashed, lowercased', async (_kind, i) => {
    const rows = [{ [i.kind]: HASHED }, { [i.kind]: `  ${HASHED.toUpperCase()}
` }] as RawRow[];
    const out = await candidateOf(engine, rows, [i]);
    expect(out.map((o) => [o.n[columnOf(i)], o.sent[sentKey(i)]])).toEqual([[HASHED, HASHED], [HASHED, HASHED]]);
    expect(rows.map((r) => ref.normalize(i.rule.normalizer, 'sha256', r[i.kind]!, { region: 'US' }))).toEqual([HASHED, HASHED]);
  });

  it('kinds sent plain read a hash as any other value (it is not theirs to pass through)', async () => {
    const raw = ` ${HASHED.toUpperCase()} `;
    const out = await candidateOf(engine, [{ maid: raw, external_id: raw, country: raw, zip: raw }], [R.maid, R.externalId, R.countryUpper, R.postalCode], 'GB');
    expect(out[0]!.n).toEqual({ n_maid__maid: null, n_external_id__trimmed: HASHED.toUpperCase(), n_country__country_upper: null, n_zip__postal_code: HASHED.toUpperCase() });
  });

  // The candidate has one column per kind and rule (normalizedColumn: n_maid__maid), built once, for
  // the first identifier that asks for it, and the pass-through is decided by that identifier's
  // encoding. A plain and a hashed rule of the same normalizer share the column (Meta takes MADID and
  // EXTERN_ID plain; docs/identity.md has Snap and TikTok take MADIDs hashed): plain first, an already
  // hashed MADID is NULL for the hashed destination and an already hashed external id is hashed again;
  // hashed first, Meta is sent the lowercased hash as a plain MADID and EXTERN_ID. Latent while Meta is
  // the only platform that takes these kinds.
  // it.fails: certain; remove `.fails` once fixed.
  const SHARED: [string, KindRule[]][] = [
    ['plain first', [R.maid, R.maidHashed, R.externalId, R.externalIdHashed]],
    ['hashed first', [R.maidHashed, R.maid, R.externalIdHashed, R.externalId]],
  ];
  const UPPER = HASHED.toUpperCase();
  it.fails.each(SHARED)('a plain and a hashed rule of one normalizer in one candidate (%s): each encoding gets its own answer', async (_order, ids) => {
    const out = await candidateOf(engine, [{ maid: ` ${UPPER} `, external_id: ` ${UPPER} ` }], ids);
    expect(out[0]!.sent).toEqual({
      'n_maid__maid:plain': null, // no MADID
      n_maid__maid: HASHED, // passed through
      'n_external_id__trimmed:plain': UPPER, // trimmed, sent as is
      n_external_id__trimmed: HASHED, // passed through
    });
  });

  it('what the shared column gives today, in each order', async () => {
    const sent = async (ids: KindRule[]) => (await candidateOf(engine, [{ maid: ` ${UPPER} `, external_id: ` ${UPPER} ` }], ids))[0]!.sent;
    expect(await sent(SHARED[0]![1])).toEqual({
      'n_maid__maid:plain': null,
      n_maid__maid: null, // the hashed MADID is refused
      'n_external_id__trimmed:plain': UPPER,
      n_external_id__trimmed: ref.sha256(UPPER), // hashed twice
    });
    expect(await sent(SHARED[1]![1])).toEqual({
      'n_maid__maid:plain': HASHED, // a hash sent to Meta as a plain MADID
      n_maid__maid: HASHED,
      'n_external_id__trimmed:plain': HASHED, // lowercased
      n_external_id__trimmed: HASHED,
    });
  });

  // ---- email_google, postal_code ------------------------------------------------------------------------

  // Fixed: the gmail rule applies to an address only; a bare 'gmail.com' is no address (NULL, counted invalid).
  it.each(['gmail.com', ' GMail.com ', 'googlemail.com', '..gmail.com..'])('email_google: %j (no @) is no address (NULL)', async (raw) => {
    expect(ref.emailGoogle(raw)).toBeNull();
    const out = await candidateOf(engine, [{ email: raw }], [R.email, R.emailGoogle]);
    expect(out[0]!.n).toEqual({ n_email__email: null, n_email__email_google: null });
  });

  // Fixed: postal_code reads a US code as zip does, whitespace removed ("US as `zip`").
  it.each([
    ['94105 1234', '94105'],
    ['941 05', '94105'],
    ['02134 - 1234', '02134'],
    [' 2134 ', '02134'],
  ])('postal_code (Google) reads US %j as zip does: %j', async (raw, five) => {
    expect(ref.postalCode(raw, 'US')).toBe(five);
    const out = await candidateOf(engine, [{ zip: raw, country: 'US' }], [R.zip, R.postalCode]);
    expect(out[0]!.n).toEqual({ n_zip__zip: five, n_zip__postal_code: five });
  });
});

// ---- Postgres with another LC_CTYPE ----------------------------------------------------------------

describe('Postgres in a database whose LC_CTYPE is C', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await postgres({ ctype: 'C' });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('ASCII capitals, Unicode whitespace and phones behave as everywhere', async () => {
    const out = await candidateOf(
      engine,
      [{ email: '\u00a0Ana@Example.COM\u3000', last_name: "O\u2019Brien", phone: '020 7946 0958', country: ' gb ' }],
      [R.email, R.lastName, R.phoneE164],
    );
    expect(out[0]!.n).toEqual({ n_email__email: 'ana@example.com', n_last_name__name: 'obrien', n_phone__phone_e164: '+442079460958' });
  });

  // lower() and [:alpha:] follow the database's LC_CTYPE. Under C, lower() lowercases ASCII only, so
  // 'JOSÉ@Exämple.com' is sent as sha256('josÉ@exämple.com'), which matches nobody; and [:alpha:]
  // is ASCII only, so the letters-only rules (name, city, state) delete every other letter: 'MÜLLER'
  // is 'mller', 'José' 'jos', and a name in another script is nothing at all (NULL, counted invalid).
  // DuckDB, Postgres under C.UTF-8 and every SDK keep them. The dialect must not depend on the
  // database's locale.
  // it.fails: certain; remove `.fails` once fixed.
  it.fails('non-ASCII letters are kept and lowercased as on every other engine', async () => {
    const out = await candidateOf(engine, [{ email: 'JOSÉ@Exämple.com', last_name: 'MÜLLER', city: 'ÅRHUS' }], [R.email, R.lastName, R.city]);
    expect(out[0]!.n).toEqual({ n_email__email: 'josé@exämple.com', n_last_name__name: 'müller', n_city__city: 'århus' });
  });

  it('what a C database makes of them today', async () => {
    const rows: RawRow[] = [
      { email: 'JOSÉ@Exämple.com', last_name: 'MÜLLER', city: 'ÅRHUS' },
      { email: 'ana@example.com', last_name: 'José', city: 'Nguyễn' },
      { email: 'ana@example.com', last_name: 'ΠΑΠΑΔΟΠΟΥΛΟΣ', city: '山田' },
    ];
    const out = await candidateOf(engine, rows, [R.email, R.lastName, R.city]);
    expect(out.map((o) => o.n)).toEqual([
      { n_email__email: 'josÉ@exämple.com', n_last_name__name: 'mller', n_city__city: 'rhus' },
      { n_email__email: 'ana@example.com', n_last_name__name: 'jos', n_city__city: 'nguyn' },
      { n_email__email: 'ana@example.com', n_last_name__name: null, n_city__city: null },
    ]);
  });
});
