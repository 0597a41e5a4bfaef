import type { PlatformCapabilities } from '../platform.js';

// Google Customer Match matches on an email, a phone or a full address, each on its own. Rules
// follow the Data Manager formatting guide (the Google Ads API takes the same values): email
// lowercased without whitespace, with the Gmail dot/+suffix rule; phone E.164 with '+'; given and
// family names lowercase without punctuation; all three SHA-256. Region code and postal code are
// sent in plain text. An address counts only when all four parts are present (Google requires
// them together): names, zip and country are attributes, and `address` makes the four one
// identifier that is added, removed and replaced as a whole, like an email (see ADDRESS below).
const identifiers: PlatformCapabilities['identifiers'] = {
  email: { role: 'match', normalizer: 'email_google', encoding: 'sha256' },
  phone: { role: 'match', normalizer: 'phone_e164', encoding: 'sha256' },
  first_name: { role: 'attribute', normalizer: 'name_google', encoding: 'sha256' },
  last_name: { role: 'attribute', normalizer: 'name_google', encoding: 'sha256' },
  zip: { role: 'attribute', normalizer: 'postal_code', encoding: 'plain' },
  country: { role: 'attribute', normalizer: 'country_upper', encoding: 'plain' },
};

/**
 * The address as one identifier, its key `<sha256 given>|<sha256 family>|<REGION>|<POSTAL>`: the four
 * parts exactly as sent, the postal code last (it is free text; the other parts have fixed widths).
 * Order and values are those of the simulator's address key and of payload.ts's AddressInfo.
 */
const ADDRESS: PlatformCapabilities['address'] = { parts: ['first_name', 'last_name', 'country', 'zip'] };

/** A member carries at most one email, one phone and one address: 3 identifiers (Google allows 10). */
export const MAX_IDENTIFIERS_PER_ROW = 3;
export const DM_MAX_MEMBERS_PER_REQUEST = 10_000; // discovery doc: IngestAudienceMembersRequest.audienceMembers
export const DM_MAX_IDENTIFIERS_PER_MEMBER = 10; // discovery doc: UserData.userIdentifiers
export const ADS_MAX_IDENTIFIERS_PER_REQUEST = 100_000; // OfflineUserDataJobError.TOO_MANY_USER_IDENTIFIERS
export const ADS_MAX_IDENTIFIERS_PER_OPERATION = 20;

// The batcher's size estimate counts value bytes plus a few per value; Google's JSON adds a field
// name per identifier, so real bodies are about twice the estimate. 4 MB of estimate never binds
// for hashed rows (10,000 rows x 6 values x 68 bytes = 4.1 MB only with every kind present and
// long postal codes); it guards against pathological plain values (postal codes are free text).
const MAX_BYTES = 4 * 1024 * 1024;

/** Data Manager: 10,000 members per call; IngestionService quota 300 requests/min per project. */
export const dataManagerCapabilities: PlatformCapabilities = {
  identifiers,
  address: ADDRESS,
  maxRowsPerRequest: DM_MAX_MEMBERS_PER_REQUEST,
  maxBytesPerRequest: MAX_BYTES,
  defaultRequestsPerSecond: 5, // 300/min
  defaultConcurrency: 4,
  replace: 'remove-all', // audienceMembers:removeAll, then ingest
  memberConsent: true, // AudienceMember.consent (adUserData, adPersonalization) on ingest
  minAudienceSize: 100, // Google targets a Customer Match list from 100 active members
};

/**
 * Google Ads OfflineUserDataJob: the hard cap is 100,000 identifiers per addOperations request and
 * 20 per operation; Google's API team recommends about 10,000 identifiers per call. One row is one
 * operation of at most 3 identifiers, so 3,333 rows keep a request at or under 10,000 identifiers
 * (and far from 100,000 whatever the row holds). Operations into one job are sent one at a time.
 */
export const googleAdsCapabilities: PlatformCapabilities = {
  identifiers,
  address: ADDRESS,
  maxRowsPerRequest: Math.floor(10_000 / MAX_IDENTIFIERS_PER_ROW),
  maxBytesPerRequest: MAX_BYTES,
  defaultRequestsPerSecond: 5,
  defaultConcurrency: 1,
  replace: 'remove-all', // a removeAll operation first in the job, then the creates
  minAudienceSize: 100,
};

/**
 * A destination without send_addresses: no address, and none of its parts, so neither is normalized,
 * sent nor kept (config.ts says why addresses are opt-in).
 */
export function withoutAddresses(capabilities: PlatformCapabilities): PlatformCapabilities {
  const parts = new Set<string>(capabilities.address?.parts ?? []);
  const { address: _address, ...rest } = capabilities;
  return { ...rest, identifiers: Object.fromEntries(Object.entries(capabilities.identifiers).filter(([kind]) => !parts.has(kind))) };
}
