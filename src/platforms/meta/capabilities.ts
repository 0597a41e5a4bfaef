import type { PlatformCapabilities } from '../platform.js';

export const metaCapabilities: PlatformCapabilities = {
  // Email only for now; payload.ts already maps every kind to its Meta schema key for when more land.
  identifiers: {
    email: { role: 'match', normalizer: 'email', encoding: 'sha256' },
  },
  maxRowsPerRequest: 10_000, // Meta's documented cap per /users call
  defaultConcurrency: 4,
  defaultRequestsPerSecond: 10,
  replace: 'session', // full refresh through /usersreplace sessions
  minAudienceSize: 100, // Meta asks advertisers not to upload lists of fewer than 100 people
};
