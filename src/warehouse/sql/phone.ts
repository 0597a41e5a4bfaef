// Phone numbers to E.164 digits in SQL, with libphonenumber's metadata inlined (phone-metadata.ts).
//   '+44 0447 234 2344', '0044 447 234 2344'      -> international: calling code, then the number
//   '(415) 555-0134' with region US (or default)  -> national: the region's calling code prepended
// A trunk prefix (0 in most of Europe, 1 in NANP, 8 in Russia) is dropped; a number whose national
// length is impossible for its calling code is invalid (NULL). Calling codes are prefix-free, so trying their first 1, 2 and 3 digits finds
// at most one, with equality joins the warehouse runs as hash joins.
import type { SqlDialect } from './dialect.js';
import { callingCodes, MAX_TRUNK_PREFIXES, phoneRegions } from './phone-metadata.js';

export interface PhoneStages {
  /** CTEs that add `_audsync_phone` (E.164 digits, no '+', or NULL) to every row of `input`. */
  ctes: string[];
  output: string; // the last CTE's name
}

/** TRUE when no letter a-z stands between the first and the last digit of `raw` (lower case text). */
export function noLetterBetweenDigitsSql(d: SqlDialect, raw: string): string {
  return d.regexFullMatch(raw, '[^0-9]*([0-9][^a-z]*[0-9]|[0-9])?[^0-9]*');
}

/** The trunk-prefix columns of the metadata tables, one per prefix a region may have. */
const TRUNK = Array.from({ length: MAX_TRUNK_PREFIXES }, (_, i) => (i === 0 ? 'np' : `np${i + 1}`));

/**
 * `phoneColumn` and `regionColumn` are columns of `input`; so is `gate`, when given: a boolean column
 * that is FALSE on rows left unparsed (their phone is NULL: candidate.ts skips unchanged members).
 */
export function phoneStages(d: SqlDialect, input: string, phoneColumn: string, regionColumn: string, gate?: string): PhoneStages {
  // Trunk prefixes as columns np, np2, np3, in the order to try them (longest first; '' for none).
  const np = (list: string[]) => TRUNK.map((_, i) => list[i] ?? '');
  const regions = d.valuesTable(
    ['region', 'cc', ...TRUNK, 'idd', 'lengths'],
    phoneRegions().map((r) => [r.region, r.callingCode, ...np(r.trunkPrefixes), r.iddPrefix, r.lengths]),
  );
  const codes = d.valuesTable(['cc', ...TRUNK, 'lengths'], callingCodes().map((c) => [c.callingCode, ...np(c.trunkPrefixes), c.lengths]));
  // An extension ('ext. 61', 'x12', '#3') is not part of the number platforms match on.
  // Computed once in its own stage: the steps below read it three times.
  const extensionless = d.regexReplaceAll(`lower(CAST(i.${d.quoteIdent(phoneColumn)} AS ${d.types.text}))`, '(e?xt\\.?|extension|x|#)[^0-9]*[0-9]+[^0-9]*$', '');
  const rawSql = gate ? `CASE WHEN i.${d.quoteIdent(gate)} THEN ${extensionless} END` : extensionless;
  const raw = 'i._audsync_ph_raw';
  // Letters between digits ('415 555 01a34', a hex string) make it no phone, as libphonenumber
  // reads it; letters before or after the number ('tel:', 'home') are noise it skips. One full
  // match says so: non-digits, then from the first digit to the last no letter, then non-digits
  // (it replaced two replace-alls and a comparison that said the same; bench/).
  const digits = `CASE WHEN ${noLetterBetweenDigitsSql(d, raw)} THEN ${d.regexReplaceAll(raw, '[^0-9]', '')} END`;
  // Whatever comes before the first digit or '+' is noise; '.' is avoided (it does not cross a newline in RE2).
  const hasPlus = `${d.regexReplaceAll(raw, '^[^0-9+]+', '')} LIKE '+%'`;
  // Length check against ',7,9,10,': the national number's length, comma-delimited.
  const possible = (nsn: string, lengths: string) => `${d.strpos(lengths, `',' || CAST(length(${nsn}) AS ${d.types.text}) || ','`)} > 0`;
  // A leading trunk prefix is dropped whenever what remains is a possible length: in national form
  // it is the trunk prefix by definition ('030 1234567'), and after a calling code it is the usual
  // '+49 (0)30' mistake. Regions without one (Italy) keep their leading 0. Where libphonenumber
  // strips more than one ('8 029…' and '029…' in Belarus), the first that fits, longest first.
  const dropTrunk = (nsn: string, nps: string[], lengths: string) =>
    `CASE ${nps
      .map((np) => `WHEN ${np} <> '' AND ${nsn} LIKE ${np} || '%' AND ${possible(`substr(${nsn}, length(${np}) + 1)`, lengths)}
      THEN substr(${nsn}, length(${np}) + 1)`)
      .join('\n      ')} ELSE ${nsn} END`;
  const home = TRUNK.map((c) => `_audsync_ph_home_${c}`);
  const ofCode = TRUNK.map((c) => `_audsync_ph_cc_${c}`);

  const ctes = [
    `_audsync_ph_regions AS (${regions})`,
    `_audsync_ph_codes AS (${codes})`,
    `_audsync_ph0 AS (SELECT i.*, ${rawSql} AS _audsync_ph_raw FROM ${input} i)`,
    `_audsync_ph1 AS (
  SELECT i.*, ${digits} AS _audsync_ph_digits, ${hasPlus} AS _audsync_ph_plus, r.cc AS _audsync_ph_home_cc, ${TRUNK.map((c, i) => `r.${c} AS ${home[i]}`).join(', ')},
    r.idd AS _audsync_ph_idd, r.lengths AS _audsync_ph_home_lengths
  FROM _audsync_ph0 i LEFT JOIN _audsync_ph_regions r ON r.region = ${gate ? `CASE WHEN i.${d.quoteIdent(gate)} THEN i.${d.quoteIdent(regionColumn)} END` : `i.${d.quoteIdent(regionColumn)}`}
)`,
    // International form: '+', or the 00 most of the world dials, or the row region's own prefix (011 in NANP).
    `_audsync_ph2 AS (
  SELECT p.*, CASE
      WHEN _audsync_ph_plus THEN _audsync_ph_digits
      WHEN _audsync_ph_digits LIKE '00%' THEN substr(_audsync_ph_digits, 3)
      WHEN _audsync_ph_idd <> '00' AND _audsync_ph_digits LIKE _audsync_ph_idd || '%' THEN substr(_audsync_ph_digits, length(_audsync_ph_idd) + 1)
    END AS _audsync_ph_intl
  FROM _audsync_ph1 p
)`,
    `_audsync_ph3 AS (
  SELECT p.*, coalesce(c1.cc, c2.cc, c3.cc) AS _audsync_ph_cc, ${TRUNK.map((c, i) => `coalesce(c1.${c}, c2.${c}, c3.${c}) AS ${ofCode[i]}`).join(', ')},
    coalesce(c1.lengths, c2.lengths, c3.lengths) AS _audsync_ph_cc_lengths
  FROM _audsync_ph2 p
  LEFT JOIN _audsync_ph_codes c1 ON c1.cc = substr(p._audsync_ph_intl, 1, 1)
  LEFT JOIN _audsync_ph_codes c2 ON c2.cc = substr(p._audsync_ph_intl, 1, 2)
  LEFT JOIN _audsync_ph_codes c3 ON c3.cc = substr(p._audsync_ph_intl, 1, 3)
)`,
    `_audsync_ph4 AS (
  SELECT p.*, CASE
      WHEN _audsync_ph_intl IS NOT NULL THEN _audsync_ph_cc
      ELSE _audsync_ph_home_cc END AS _audsync_ph_final_cc,
    CASE
      WHEN _audsync_ph_intl IS NOT NULL THEN ${dropTrunk('substr(_audsync_ph_intl, length(_audsync_ph_cc) + 1)', ofCode, '_audsync_ph_cc_lengths')}
      ELSE ${dropTrunk('_audsync_ph_digits', home, '_audsync_ph_home_lengths')} END AS _audsync_ph_nsn,
    CASE WHEN _audsync_ph_intl IS NOT NULL THEN _audsync_ph_cc_lengths ELSE _audsync_ph_home_lengths END AS _audsync_ph_lengths
  FROM _audsync_ph3 p
)`,
    `_audsync_ph5 AS (
  SELECT p.*, CASE WHEN _audsync_ph_final_cc IS NOT NULL AND _audsync_ph_nsn <> '' AND ${possible('_audsync_ph_nsn', '_audsync_ph_lengths')}
    THEN _audsync_ph_final_cc || _audsync_ph_nsn END AS _audsync_phone
  FROM _audsync_ph4 p
)`,
  ];
  return { ctes, output: '_audsync_ph5' };
}
