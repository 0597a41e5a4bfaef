// Phone numbering metadata for normalizing numbers in SQL, read from libphonenumber-js (Google's
// libphonenumber data): per region its calling code, national (trunk) prefix, international dialling
// prefix and the possible lengths of a national significant number. Inlined into the candidate SQL
// as a VALUES table, so nothing is installed in the warehouse and every dialect gets the same data.
import { Metadata, getCountries, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';

// Methods present at run time that the package's type declarations leave out.
interface Plan {
  nationalPrefix(): unknown;
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
  iddPrefix: string; // a plain digit string; '00' where the metadata has a pattern
  lengths: string; // possible national significant lengths as ',7,9,10,' for a position() test
}

export interface CallingCode {
  callingCode: string;
  nationalPrefix: string; // of the code's main region
  lengths: string; // union over the regions sharing the code
}

let regions: PhoneRegion[] | undefined;

export function phoneRegions(): PhoneRegion[] {
  if (regions) return regions;
  const metadata = newMetadata();
  regions = getCountries().map((region: CountryCode) => {
    metadata.selectNumberingPlan(region);
    const plan = metadata.numberingPlan;
    return {
      region,
      callingCode: getCountryCallingCode(region),
      // Regions without a trunk prefix (Italy) come back as a non-string in the compact metadata.
      nationalPrefix: digitsOr(plan.nationalPrefix(), ''),
      iddPrefix: digitsOr(plan.IDDPrefix(), '00'),
      lengths: `,${plan.possibleLengths().join(',')},`,
    };
  });
  return regions;
}

export function callingCodes(): CallingCode[] {
  const byCode = new Map<string, { nationalPrefix: string; lengths: Set<string> }>();
  const metadata = newMetadata();
  for (const r of phoneRegions()) {
    const entry = byCode.get(r.callingCode) ?? { nationalPrefix: '', lengths: new Set<string>() };
    // The main region of a shared code (US for +1, RU for +7, GB for +44) sets the trunk prefix.
    if (metadata.getCountryCodeForCallingCode(r.callingCode) === r.region) entry.nationalPrefix = r.nationalPrefix;
    for (const n of r.lengths.split(',').filter(Boolean)) entry.lengths.add(n);
    byCode.set(r.callingCode, entry);
  }
  return [...byCode].map(([callingCode, e]) => ({
    callingCode,
    nationalPrefix: e.nationalPrefix,
    lengths: `,${[...e.lengths].sort((a, b) => Number(a) - Number(b)).join(',')},`,
  }));
}

function digitsOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\d+$/.test(value) ? value : fallback;
}
