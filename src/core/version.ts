import { readFileSync } from 'node:fs';

/** audsync's own version, recorded with every run. */
export const AUDSYNC_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
