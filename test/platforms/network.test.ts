// A platform reaches the network only through PlatformContext.http, the runtime's request function
// that waits for a slot of the ad account's rate limit (runner/platforms.ts). A platform that
// called fetch or sendRequest itself would spend the account's limit behind the limiter's back;
// this keeps a new platform folder, or a new call in an old one, from doing so by accident.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const PLATFORMS = join(import.meta.dirname, '../../src/platforms');
/** The shared runtime, which the limiter wraps; everything else under src/platforms is a platform. */
const RUNTIME = new Set(['http', 'delivery']);
const DIRECT = [/\bsendRequest\b/, /\bfetch\s*\(/, /from 'node:https?'/, /from 'undici'/];

it('no platform sends a request except through context.http', async () => {
  const folders = (await readdir(PLATFORMS, { withFileTypes: true })).filter((e) => e.isDirectory() && !RUNTIME.has(e.name));
  expect(folders.map((f) => f.name).sort()).toEqual(expect.arrayContaining(['google', 'meta']));
  const offenders: string[] = [];
  for (const folder of folders) {
    for (const file of await readdir(join(PLATFORMS, folder.name))) {
      if (!file.endsWith('.ts')) continue;
      const text = await readFile(join(PLATFORMS, folder.name, file), 'utf8');
      for (const pattern of DIRECT) if (pattern.test(text)) offenders.push(`${folder.name}/${file}: ${pattern}`);
    }
  }
  expect(offenders).toEqual([]);
});
