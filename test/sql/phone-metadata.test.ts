// The phone metadata the SQL inlines, read from libphonenumber-js: the trunk prefixes each region's
// numbers may carry, as libphonenumber's national_prefix_for_parsing says where it is literal.
import { describe, expect, it } from 'vitest';
import { callingCodes, phoneRegions, trunkPrefixes } from '../../src/warehouse/sql/phone-metadata.js';

describe('trunk prefixes', () => {
  it('expand literal parsing patterns, longest first; patterns with groups leave the national prefix alone', () => {
    expect(trunkPrefixes('8', '0|80?')).toEqual(['80', '0', '8']);
    expect(trunkPrefixes('0', '[08]')).toEqual(['0', '8']);
    expect(trunkPrefixes('0', '0|180020')).toEqual(['180020', '0']);
    expect(trunkPrefixes('1', '([457]\\d{6})$|1')).toEqual(['1']);
    expect(trunkPrefixes('0', undefined)).toEqual(['0']);
    expect(trunkPrefixes('', undefined)).toEqual([]);
  });

  it('as the metadata has them: Belarus, Lithuania and the UK differ from their national prefix alone', () => {
    const byRegion = new Map(phoneRegions().map((r) => [r.region, r]));
    expect(byRegion.get('BY')!.trunkPrefixes).toEqual(['80', '0', '8']);
    expect(byRegion.get('LT')!.trunkPrefixes).toEqual(['0', '8']);
    expect(byRegion.get('IT')!.trunkPrefixes).toEqual([]);
    expect(byRegion.get('DE')!.trunkPrefixes).toEqual(['0']);
    const differ = phoneRegions().filter((r) => r.trunkPrefixes.join() !== (r.nationalPrefix ? r.nationalPrefix : ''));
    expect(differ.map((r) => r.region).sort()).toEqual(['BY', 'GB', 'LT']);
    expect(callingCodes().find((c) => c.callingCode === '375')!.trunkPrefixes).toEqual(['80', '0', '8']);
  });
});
