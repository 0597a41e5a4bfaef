#!/usr/bin/env node
// Runs the TypeScript sources with no build step: from a bundle of them cached on first use
// (bundle.js), or, where that cannot be built, through tsx.
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundledEntry } from './bundle.js';

const entry = await bundledEntry(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
if (entry) {
  // Stack traces (debug logging) name the .ts files and lines, as they do under tsx.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
