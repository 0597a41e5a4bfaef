import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * audsync's package.json: the nearest one named audsync above this module, which is src/core or,
 * when the CLI runs from its cached bundle, node_modules/.cache/audsync/<key> (bin/bundle.js).
 */
function ownPackage(): { version: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'audsync') return pkg;
    }
    if (dirname(dir) === dir) throw new Error('audsync: its own package.json was not found');
  }
}

/** audsync's own version, recorded with every run. */
export const AUDSYNC_VERSION: string = ownPackage().version;
