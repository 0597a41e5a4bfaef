import type { PlatformCapabilities } from '../platform.js';

// Meta matches a multi-key row as one person. Rules follow Meta's customer-file formatting and its
// SDKs (facebook-python-business-sdk customaudiencemixin.normalize_key; the Node CAPI utils):
// EMAIL trimmed and lowercased; PHONE digits with the country code, no '+'; FN/LN/CT/ST lowercase
// letters (UTF-8 letters kept, as Meta's docs allow); ZIP lowercase without spaces, US 5 digits;
// COUNTRY ISO-2 lowercase; all of these SHA-256. MADID and EXTERN_ID are sent in plain text.
export const metaCapabilities: PlatformCapabilities = {
  identifiers: {
    email: { role: 'match', normalizer: 'email', encoding: 'sha256' },
    phone: { role: 'match', normalizer: 'phone_digits', encoding: 'sha256' },
    maid: { role: 'match', normalizer: 'maid', encoding: 'plain' },
    external_id: { role: 'match', normalizer: 'trimmed', encoding: 'plain' },
    first_name: { role: 'attribute', normalizer: 'name', encoding: 'sha256' },
    last_name: { role: 'attribute', normalizer: 'name', encoding: 'sha256' },
    zip: { role: 'attribute', normalizer: 'zip', encoding: 'sha256' },
    city: { role: 'attribute', normalizer: 'city', encoding: 'sha256' },
    state: { role: 'attribute', normalizer: 'state', encoding: 'sha256' },
    country: { role: 'attribute', normalizer: 'country_lower', encoding: 'sha256' },
  },
  maxRowsPerRequest: 10_000, // Meta's documented cap per /users call
  rowEncoding: 'json_array', // payload.data: one array per row, the schema's keys in order
  defaultConcurrency: 4,
  defaultRequestsPerSecond: 10,
  replace: 'session', // full refresh through /usersreplace sessions
  minAudienceSize: 100, // Meta asks advertisers not to upload lists of fewer than 100 people
};
