// The only file that names concrete platforms. Each is a folder loaded on first use, so a project
// that syncs only to Meta never loads another platform's code.
import type { PlatformConfigSpec, PlatformDefinition } from './platform.js';

interface Entry {
  config: () => Promise<{ configSpec: PlatformConfigSpec }>;
  load: () => Promise<{ definition: PlatformDefinition<any> }>;
}

const platforms: Record<string, Entry> = {
  meta_custom_audiences: {
    config: () => import('./meta/config.js'),
    load: () => import('./meta/index.js'),
  },
  google_customer_match: {
    config: () => import('./google/config.js'),
    load: () => import('./google/index.js'),
  },
};

/** Destination `type:` values the config may name, including those not built yet (see contract.md). */
export const plannedPlatformTypes = [
  'tiktok_audiences',
  'linkedin_audiences',
  'snapchat_audience_match',
  'pinterest_customer_lists',
  'webhook',
  'file',
];

export function platformTypes(): string[] {
  return Object.keys(platforms);
}

export async function loadPlatformConfigSpec(type: string): Promise<PlatformConfigSpec | undefined> {
  const entry = platforms[type];
  return entry ? (await entry.config()).configSpec : undefined;
}

export async function loadPlatform(type: string): Promise<PlatformDefinition<any>> {
  const entry = platforms[type];
  if (!entry) throw new Error(`unknown platform type '${type}'`);
  return (await entry.load()).definition;
}
