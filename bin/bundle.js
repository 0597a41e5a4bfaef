// The CLI runs from one bundle of src/, built with esbuild (the compiler tsx runs on each file) on
// first use and cached by a hash of the sources, so editing a file rebuilds it on the next command
// and a checkout still needs no build step. Why: loading about 170 TypeScript files one by one
// through tsx's loader thread took 0.45 s of every command (0.7 s for `audsync --version`, 0.27 s
// from the bundle), which a 10M-member run that the warehouse finishes in a few seconds pays too.
// Dependencies stay outside the bundle, and lazily loaded warehouses and platforms stay lazy
// (their own chunks, code splitting). Anything that goes wrong here returns undefined: the caller
// runs the sources through tsx instead.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the build options below change: old bundles are then rebuilt. */
const FORMAT = '1';

/** The bundle's entry file for the sources under root/src, built if missing; undefined if it cannot be. */
export async function bundledEntry(root) {
  try {
    const src = join(root, 'src');
    const cache = join(root, 'node_modules', '.cache', 'audsync');
    const key = sourceKey(src);
    const out = join(cache, key);
    const entry = join(out, 'main.js');
    if (existsSync(entry)) return entry;
    mkdirSync(cache, { recursive: true });
    const { build } = await import('esbuild');
    // Built aside and renamed into place, so a process never loads a half-written bundle; when
    // two commands build at once, one rename wins and the other's copy is dropped.
    const staging = join(cache, `.${key}-${process.pid}`);
    await build({
      entryPoints: [join(src, 'cli', 'main.ts')],
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'silent',
    });
    try {
      renameSync(staging, out);
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
    if (!existsSync(entry)) return undefined;
    for (const old of readdirSync(cache)) {
      if (old !== key && !old.startsWith('.')) rmSync(join(cache, old), { recursive: true, force: true });
    }
    return entry;
  } catch {
    return undefined;
  }
}

/** A hash of every source file's path and content (mtimes change on checkout; contents decide). */
function sourceKey(src) {
  const hash = createHash('sha256').update(`format ${FORMAT}\0node ${process.versions.node}\0`);
  const files = readdirSync(src, { recursive: true }).filter((f) => f.endsWith('.ts')).sort();
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(src, file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}
