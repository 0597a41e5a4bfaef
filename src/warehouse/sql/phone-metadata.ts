// Phone numbering metadata for normalizing numbers in SQL, read from libphonenumber-js (Google's
// libphonenumber data): per region its calling code, national (trunk) prefix, international dialling
// prefix and the possible lengths of a national significant number. Inlined into the candidate SQL
// as a VALUES table, so nothing is installed in the warehouse and every dialect gets the same data.
import { Metadata, getCountries, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';

// Methods present at run time that the package's type declarations leave out.
interface Plan {
  nationalPrefix(): unknown;
  nationalPrefixForParsing(): unknown;
  IDDPrefix(): unknown;
  possibleLengths(): number[];
}
interface FullMetadata {
  selectNumberingPlan(region: string): void;
  numberingPlan: Plan;
  getCountryCodeForCallingCode(code: string): string | undefined;
}
const newMetadata = () => new Metadata() as unknown as FullMetadata;

export interface PhoneRegion {
  region: string; // ISO 3166-1 alpha-2
  callingCode: string;
  nationalPrefix: string; // '' where numbers keep their leading digit (Italy)
  /** The trunk prefixes to try, longest first: '80', '8', '0' in Belarus; [nationalPrefix] or [] mostly. */
  trunkPrefixes: string[];
  iddPrefix: string; // a plain digit string; '00' where the metadata has a pattern
  lengths: string; // possible national significant lengths as ',7,9,10,' for a position() test
}

export interface CallingCode {
  callingCode: string;
  nationalPrefix: string; // of the code's main region
  trunkPrefixes: string[]; // of the code's main region
  lengths: string; // union over the regions sharing the code
}

let regions: PhoneRegion[] | undefined;

export function phoneRegions(): PhoneRegion[] {
  if (regions) return regions;
  const metadata = newMetadata();
  regions = getCountries().map((region: CountryCode) => {
    metadata.selectNumberingPlan(region);
    const plan = metadata.numberingPlan;
    // Regions without a trunk prefix (Italy) come back as a non-string in the compact metadata.
    const nationalPrefix = digitsOr(plan.nationalPrefix(), '');
    return {
      region,
      callingCode: getCountryCallingCode(region),
      nationalPrefix,
      trunkPrefixes: trunkPrefixes(nationalPrefix, plan.nationalPrefixForParsing()),
      iddPrefix: digitsOr(plan.IDDPrefix(), '00'),
      lengths: `,${plan.possibleLengths().join(',')},`,
    };
  });
  return regions;
}

export function callingCodes(): CallingCode[] {
  const byCode = new Map<string, { nationalPrefix: string; trunkPrefixes: string[]; lengths: Set<string> }>();
  const metadata = newMetadata();
  for (const r of phoneRegions()) {
    const entry = byCode.get(r.callingCode) ?? { nationalPrefix: '', trunkPrefixes: [] as string[], lengths: new Set<string>() };
    // The main region of a shared code (US for +1, RU for +7, GB for +44) sets the trunk prefix.
    if (metadata.getCountryCodeForCallingCode(r.callingCode) === r.region) {
      entry.nationalPrefix = r.nationalPrefix;
      entry.trunkPrefixes = r.trunkPrefixes;
    }
    for (const n of r.lengths.split(',').filter(Boolean)) entry.lengths.add(n);
    byCode.set(r.callingCode, entry);
  }
  return [...byCode].map(([callingCode, e]) => ({
    callingCode,
    nationalPrefix: e.nationalPrefix,
    trunkPrefixes: e.trunkPrefixes,
    lengths: `,${[...e.lengths].sort((a, b) => Number(a) - Number(b)).join(',')},`,
  }));
}

function digitsOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\d+$/.test(value) ? value : fallback;
}

/** At most this many trunk prefixes per region (Belarus has the most: 80, 8, 0). */
export const MAX_TRUNK_PREFIXES = 3;

/**
 * The national prefix, and the literal prefixes libphonenumber's national_prefix_for_parsing also
 * strips where that pattern is plain digits, classes and '?' in alternatives (Belarus '0|80?',
 * Lithuania '[08]', UK '0|180020'); longest first, so '80' goes before '8'. Patterns with groups
 * (a transform rule rewrites the number: Argentina, NANP islands' local form) are left to the
 * national prefix alone.
 */
export function trunkPrefixes(nationalPrefix: string, forParsing: unknown): string[] {
  const found = new Set<string>(nationalPrefix ? [nationalPrefix] : []);
  if (typeof forParsing === 'string' && /^[0-9|?[\]]+$/.test(forParsing)) {
    for (const alternative of forParsing.split('|')) for (const prefix of expand(alternative)) if (prefix) found.add(prefix);
  }
  const list = [...found].sort((a, b) => b.length - a.length || a.localeCompare(b));
  if (list.length > MAX_TRUNK_PREFIXES) throw new Error(`more than ${MAX_TRUNK_PREFIXES} trunk prefixes: ${list.join(', ')}`);
  return list;
}

/** '80?' -> ['80', '8']; '[08]' -> ['0', '8']. */
function expand(pattern: string): string[] {
  let out = [''];
  const tokens = pattern.match(/\[[0-9]+\]\??|[0-9]\??/g) ?? [];
  if (tokens.join('') !== pattern) return [];
  for (const token of tokens) {
    const optional = token.endsWith('?');
    const body = optional ? token.slice(0, -1) : token;
    const choices = body.startsWith('[') ? [...body.slice(1, -1)] : [body];
    out = out.flatMap((head) => [...choices.map((c) => head + c), ...(optional ? [head] : [])]);
  }
  return out;
}
