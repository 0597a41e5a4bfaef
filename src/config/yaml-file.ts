// Reads one YAML file of the project and keeps what is needed to point an issue at a line:
// the parsed Document (node ranges) and its LineCounter. A file that does not parse, or whose
// top level is not a mapping, becomes an issue and is not validated further.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigIssue } from '../core/errors.js';

export interface YamlSource {
  /** Relative to the project dir, with forward slashes: 'models/recent_purchasers.yml'. */
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The file's top-level mapping as plain data. */
  data: Record<string, unknown>;
}

export async function readYamlFile(projectDir: string, file: string, issues: ConfigIssue[]): Promise<YamlSource | undefined> {
  const text = await readFile(path.join(projectDir, file), 'utf8');
  const lineCounter = new LineCounter();
  // prettyErrors off: the message stays one short sentence; the position is reported separately.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      issues.push({ file, path: '', line, column: col, message: `malformed YAML: ${error.message}; fix the syntax here` });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    issues.push({ file, path: '', message: `malformed YAML: ${(error as Error).message}` });
    return undefined;
  }
  if (data === null || data === undefined) {
    issues.push({ file, path: '', message: 'the file is empty; it should hold a mapping of fields such as `name: ...`' });
    return undefined;
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push({ file, path: '', line: 1, column: 1, message: 'expected a mapping of fields such as `name: ...` at the top level' });
    return undefined;
  }
  return { file, doc, lineCounter, data: data as Record<string, unknown> };
}

/** Project-relative paths of the .yml/.yaml files in a folder, sorted so output is stable; none if it is missing. */
export async function listYamlFiles(projectDir: string, folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(projectDir, folder), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => `${folder}/${e.name}`)
    .sort();
}

/** 'destinations/meta_main.yml' -> 'meta_main': the name a file most likely declares. */
export function fileStem(file: string): string {
  return path.posix.basename(file).replace(/\.ya?ml$/, '');
}
