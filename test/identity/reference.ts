// A small TypeScript reference of every normalization rule, written from the rules' own comments
// (src/warehouse/sql/normalize.ts, phone.ts) and the platforms' published rules
// (../shared/reference/destination-apis.md, "Normalization" per platform), not from the SQL.
// Phones are parsed by libphonenumber-js itself, the library whose metadata the SQL inlines.
//
// Documented simplifications, shared with the SQL on purpose (each one named where it applies):
//   - "whitespace" is JavaScript's \s (the rule lists exactly those characters);
//   - lowercasing is String.prototype.toLowerCase; the SQL engines' lower() is simple case mapping,
//     so 'İ' (U+0130) and a word-final 'Σ' differ (pinned in properties.test.ts, not generated);
//   - "letters" are Unicode's (\p{L}) as Node's ICU knows them; the engines' tables are older
//     (letters added in Unicode 15 and later are dropped by them; not generated);
//   - phones: a leading '00' is international everywhere, before the row region's own prefix
//     (phone.ts: "'+', or the 00 most of the world dials, or the row region's own prefix"), and
//     validity is the possible-length check, not libphonenumber's number patterns.
// Where the engines depart from these rules, properties.test.ts pins it ("known disagreements").
import { createHash } from 'node:crypto';
import { getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type Raw = string | null;

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What is sent for a sha256 kind: the hash of the normalized text, or the text when it already is one. */
export function encode(normalized: string | null, encoding: 'sha256' | 'plain' = 'sha256'): string | null {
  if (normalized === null || encoding === 'plain') return normalized;
  return SHA256_HEX.test(normalized) ? normalized : sha256(normalized);
}

const nonEmpty = (v: string) => (v === '' ? null : v);

/**
 * "Already-hashed values (64 hex digits, any case) pass through lowercased and are never hashed
 * twice", for every kind sent hashed: the value trimmed of whitespace, or null when it is no hash.
 */
export function prehashed(raw: Raw): string | null {
  if (raw === null) return null;
  const v = raw.replace(/^\s+|\s+$/g, '').toLowerCase();
  return SHA256_HEX.test(v) ? v : null;
}

// ---- email ----------------------------------------------------------------------------------------

/**
 * Meta: "EMAIL is trimmed and lowercased"; its python SDK strips " \t\r\n\0\x0B." at the ends (so
 * "..test.." is "test"). Google: "lowercase and strip all whitespace". The product does both: all
 * whitespace removed, dots at either end removed, lowercased. Not yet validated.
 */
export function emailBase(raw: string): string {
  return raw.replace(/\s+/g, '').replace(/^\.+/, '').replace(/\.+$/, '').toLowerCase();
}

/** "Deliberately permissive: one '@', no whitespace, a dot in the domain"; or an existing SHA-256. */
function validEmail(v: string): string | null {
  if (SHA256_HEX.test(v)) return v;
  const at = v.split('@');
  if (at.length !== 2) return null;
  const [local, domain] = at as [string, string];
  // a dot in the domain with something on both sides of it
  return local.length > 0 && /.\../u.test(domain) ? v : null;
}

export function email(raw: Raw): string | null {
  return raw === null ? null : validEmail(emailBase(raw));
}

const GMAIL = new Set(['gmail.com', 'googlemail.com']);

/**
 * Google: for an address at gmail.com or googlemail.com only, every '.' and any '+suffix' leave the
 * local part. A value without '@' is no address at all ('gmail.com' is invalid, as for `email`).
 */
export function emailGoogle(raw: Raw): string | null {
  if (raw === null) return null;
  const v = emailBase(raw);
  const at = v.indexOf('@');
  if (at >= 0) {
    const local = v.slice(0, at);
    const domain = v.slice(at + 1);
    if (GMAIL.has(domain)) return validEmail(`${local.split('+')[0]!.split('.').join('')}@${domain}`);
  }
  return validEmail(v);
}

// ---- names, cities, states ------------------------------------------------------------------------

/**
 * Meta FN/LN: "lowercase letters only; letters of every script are kept (UTF-8, NFC), digits,
 * symbols and punctuation go". CT/ST: "like names". Read as: composed (NFC) first, so 'Jose' +
 * U+0301 is 'josé'; then every letter (\p{L}) stays, with the combining marks that belong to it
 * (a mark that NFC cannot compose into its letter, as a Devanagari virama or a Thai tone mark, is
 * part of the letter); everything else goes, including a mark left on something that is not a
 * letter (an emoji's variation selector U+FE0F, a keycap's U+20E3).
 */
export function nameLetters(raw: Raw): string | null {
  if (raw === null) return null;
  let kept = '';
  let onLetter = false; // the last character that is not a mark was a letter
  for (const ch of raw.normalize('NFC')) {
    if (/\p{M}/u.test(ch)) {
      if (onLetter) kept += ch;
      continue;
    }
    onLetter = /\p{L}/u.test(ch);
    if (onLetter) kept += ch;
  }
  return nonEmpty(kept.toLowerCase());
}
export const name = nameLetters;
export const city = nameLetters;
export const state = nameLetters;

/**
 * U+02BC MODIFIER LETTER APOSTROPHE is a letter to Unicode (Lm) but an apostrophe to a CRM
 * ("dʼArcy"); name_google's rule lists it among the typographic marks that go (name keeps it: a letter).
 */
const APOSTROPHES = new Set(['\u02bc']);

/** Punctuation: Unicode's (\p{P}) and ASCII's (which counts $+<=>^`|~ as punctuation too). */
const isPunct = (ch: string) => /\p{P}/u.test(ch) || /^[!-/:-@[-`{-~]$/.test(ch) || APOSTROPHES.has(ch);

/**
 * Google givenName/familyName: "lowercase, no punctuation, no whitespace at the ends". Runs of
 * whitespace inside become one space (the SQL does this; the comment does not say it, see the report).
 */
export function nameGoogle(raw: Raw): string | null {
  if (raw === null) return null;
  const v = [...raw].filter((ch) => !isPunct(ch)).join('');
  return nonEmpty(v.replace(/\s+/g, ' ').trim().toLowerCase());
}

// ---- zips and postal codes ------------------------------------------------------------------------

/** US ZIP: 5 digits, or ZIP+4 (with or without its hyphen) cut to 5; 3 or 4 digits lost their leading zeros. */
function usZip(v: string): string | null {
  if (/^[0-9]{5}(-?[0-9]{4})?$/.test(v)) return v.slice(0, 5);
  if (/^[0-9]{3,4}$/.test(v)) return v.padStart(5, '0');
  return null;
}

/** Meta ZIP: "lowercased with spaces removed"; US: "the first 5 digits of ZIP+4, leading zeros restored". */
export function zip(raw: Raw, region: string): string | null {
  if (raw === null) return null;
  const v = raw.replace(/\s+/g, '').toLowerCase();
  return nonEmpty(region === 'US' ? (usZip(v) ?? '') : v);
}

/**
 * Google postalCode, "sent as is: trimmed, single spaces, upper case; US as 5 digits"; docs/identity.md:
 * "US as `zip`" (whose whitespace is removed, so '94105 1234' is 94105 there too).
 */
export function postalCode(raw: Raw, region: string): string | null {
  if (raw === null) return null;
  if (region === 'US') return usZip(raw.replace(/\s+/g, ''));
  return nonEmpty(raw.replace(/\s+/g, ' ').trim().toUpperCase());
}

// ---- countries and regions ------------------------------------------------------------------------

/** The ISO 3166-1 alpha-2 regions libphonenumber knows: "unknown regions are NULL". */
export const KNOWN_REGIONS: ReadonlySet<string> = new Set(getCountries());

/** The letters of a value (Unicode's, after NFC), lowercased: what a country spelling is read from. */
const countryLetters = (raw: string) => [...raw.normalize('NFC')].filter((ch) => /\p{L}/u.test(ch)).join('').toLowerCase();

/** docs/identity.md's aliases, beyond the English region names: letters only, lowercased. */
export const COUNTRY_ALIASES: Readonly<Record<string, string>> = {
  uk: 'GB', greatbritain: 'GB', england: 'GB', scotland: 'GB', wales: 'GB', northernireland: 'GB',
  usa: 'US', unitedstatesofamerica: 'US', holland: 'NL', southkorea: 'KR', russia: 'RU',
  turkey: 'TR', czechrepublic: 'CZ', ivorycoast: 'CI', hongkong: 'HK', macau: 'MO', macao: 'MO',
  reunion: 'RE', bosniaandherzegovina: 'BA', burma: 'MM', swaziland: 'SZ', vatican: 'VA',
};

/** English region names, as Node's Intl.DisplayNames('en', { type: 'region' }) gives them, by their letters. */
export const COUNTRY_NAMES: ReadonlyMap<string, string> = (() => {
  const display = new Intl.DisplayNames(['en'], { type: 'region' });
  return new Map([...KNOWN_REGIONS].map((code) => [countryLetters(display.of(code) ?? code), code]));
})();

/**
 * ISO 3166-1 alpha-2, upper case, or null, read from the value's letters (case, spaces and
 * punctuation do not matter): exactly a two-letter code ('UK' read as GB; unknown codes null), or an
 * English country name ('Germany' -> DE, 'United States' -> US), or one of the aliases ('England',
 * 'USA', 'Holland'). Anything else is null ('AUT', 'Deutschland'): never the first two letters of a
 * longer word. For Meta COUNTRY too, a deliberate departure from Meta's SDK ('germany'[:2] = 'ge').
 */
export function region(raw: Raw): string | null {
  if (raw === null) return null;
  const letters = countryLetters(raw);
  if (/^[a-z]{2}$/.test(letters)) {
    const code = letters === 'uk' ? 'GB' : letters.toUpperCase();
    return KNOWN_REGIONS.has(code) ? code : null;
  }
  return COUNTRY_ALIASES[letters] ?? COUNTRY_NAMES.get(letters) ?? null;
}
export const countryUpper = region;
export const countryLower = (raw: Raw) => region(raw)?.toLowerCase() ?? null;

/** The row's region as the candidate computes it: its country identifier, else the default. */
export const rowRegion = (country: Raw, defaultRegion: string) => region(country) ?? defaultRegion;

// ---- advertising ids, external ids ----------------------------------------------------------------

const MAID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** IDFA/GAID: trimmed, lowercase UUID with its hyphens (Meta: lowercased; Snap: hyphens kept); all-zero = opted out. */
export function maid(raw: Raw): string | null {
  if (raw === null) return null;
  const v = raw.trim().toLowerCase();
  return MAID.test(v) && v !== '00000000-0000-0000-0000-000000000000' ? v : null;
}

/** External ids: any non-empty text, trimmed. */
export function trimmed(raw: Raw): string | null {
  return raw === null ? null : nonEmpty(raw.trim());
}

// ---- phones ---------------------------------------------------------------------------------------

/**
 * E.164 digits without '+', or null, by libphonenumber-js: parsePhoneNumberFromString(raw, region)
 * and its .number for a number of possible length. International form, in phone.ts's documented
 * order: '+'; else a leading 00 ("the 00 most of the world dials", read here as '+'); else the row
 * region's own international prefix (011 in NANP), which libphonenumber reads itself.
 */
export function phoneDigits(raw: Raw, defaultRegion: string): string | null {
  if (raw === null) return null;
  const intl = /^[^0-9]*\+/.test(raw) ? raw : raw.replace(/^([^0-9+]*)00/, '$1+');
  const parsed = parsePhoneNumberFromString(intl, defaultRegion as CountryCode);
  if (!parsed || !parsed.isPossible()) return null;
  return parsed.number.slice(1);
}
export const phoneE164 = (raw: Raw, defaultRegion: string) => {
  const digits = phoneDigits(raw, defaultRegion);
  return digits === null ? null : `+${digits}`;
};

// ---- by rule name ---------------------------------------------------------------------------------

export interface RowContext {
  /** The row's region (rowRegion). */
  region: string;
}

/** Each rule by name, applied to the raw value (before any pass-through of an existing hash). */
export const RULES: Record<string, (raw: Raw, c: RowContext) => string | null> = {
  email: (raw) => email(raw),
  email_google: (raw) => emailGoogle(raw),
  phone_digits: (raw, c) => phoneDigits(raw, c.region),
  phone_e164: (raw, c) => phoneE164(raw, c.region),
  name: (raw) => name(raw),
  name_google: (raw) => nameGoogle(raw),
  city: (raw) => city(raw),
  state: (raw) => state(raw),
  zip: (raw, c) => zip(raw, c.region),
  postal_code: (raw, c) => postalCode(raw, c.region),
  country_lower: (raw) => countryLower(raw),
  country_upper: (raw) => countryUpper(raw),
  maid: (raw) => maid(raw),
  trimmed: (raw) => trimmed(raw),
};

/**
 * The normalized value of a raw value under a rule and an encoding: for a kind sent hashed, an
 * existing SHA-256 passes through (prehashed); otherwise the rule itself.
 */
export function normalize(normalizer: string, encoding: 'sha256' | 'plain', raw: Raw, c: RowContext): string | null {
  const rule = RULES[normalizer];
  if (!rule) throw new Error(`no reference for rule ${normalizer}`);
  if (encoding === 'sha256') {
    const hash = prehashed(raw);
    if (hash !== null) return hash;
  }
  return rule(raw, c);
}
