// The CLI runs from a bundle of src/ cached by a hash of the sources (bin/bundle.js): an edited
// source must rebuild it, unchanged sources must not, and a bundle that cannot be built must send
// the caller back to tsx rather than fail the command.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module of the bin folder, without types
import { bundledEntry } from '../../bin/bundle.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'audsync-bundle-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function source(file: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, 'src', file)), { recursive: true });
  await writeFile(join(root, 'src', file), text);
}

const cached = () => readdir(join(root, 'node_modules', '.cache', 'audsync'));

describe('the CLI bundle', () => {
  it('is built from src/cli/main.ts, reused while the sources are unchanged, rebuilt when one changes', async () => {
    await source('cli/main.ts', "import { answer } from '../core/answer.js';\nexport const value: number = answer();\n");
    await source('core/answer.ts', 'export const answer = (): number => 41;\n');
    const first = (await bundledEntry(root)) as string;
    expect(first).toMatch(/node_modules\/\.cache\/audsync\/[0-9a-f]{16}\/main\.js$/);
    expect((await import(pathToFileURL(first).href)).value).toBe(41);
    expect(await bundledEntry(root)).toBe(first);

    await source('core/answer.ts', 'export const answer = (): number => 42;\n');
    const second = (await bundledEntry(root)) as string;
    expect(second).not.toBe(first);
    expect((await import(pathToFileURL(second).href)).value).toBe(42);
    // The stale bundle is gone: only the current one stays in the cache.
    expect(await cached()).toEqual([second.split('/').at(-2)]);
  });

  it('keeps a dynamically imported module in a chunk of its own, loaded only when imported', async () => {
    await source('cli/main.ts', "export const load = () => import('../lazy/driver.js');\n");
    await source('lazy/driver.ts', "export const name = 'driver';\n");
    const entry = (await bundledEntry(root)) as string;
    const files = await readdir(dirname(entry));
    expect(files.filter((f) => f.startsWith('driver-') && f.endsWith('.js'))).toHaveLength(1);
    expect(await (await import(pathToFileURL(entry).href)).load()).toMatchObject({ name: 'driver' });
  });

  it('returns undefined when the sources do not compile, so the CLI runs them through tsx and reports the error there', async () => {
    await source('cli/main.ts', 'export const broken = (;\n');
    expect(await bundledEntry(root)).toBeUndefined();
    expect(await cached()).toEqual([]);
  });
});
