// Turns a field path into the line and column a user should look at. Where the field is missing,
// the nearest mapping that exists is the place to add it, so that is where the issue points.
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ConfigIssue } from '../core/errors.js';
import type { YamlSource } from './yaml-file.js';

export type FieldPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export function dotted(path: FieldPath): string {
  return path.join('.');
}

/**
 * `at: 'key'` points at a mapping key itself (an unknown key); otherwise at the value when it
 * sits on the key's line (a scalar or flow collection), else at the key.
 */
export function locate(src: YamlSource, path: FieldPath, at: 'key' | 'value' = 'value'): Position | undefined {
  let node: unknown = src.doc.contents;
  for (let i = 0; i < path.length; i++) {
    const segment = String(path[i]);
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) return position(src, node);
      if (last) {
        const value = pair.value as Node | null;
        const onKeyLine = isScalar(value) ? value.value !== null : (isMap(value) || isSeq(value)) && value.flow === true;
        return position(src, at === 'value' && onKeyLine ? value : pair.key) ?? position(src, node);
      }
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) return position(src, node);
      if (last) return position(src, item) ?? position(src, node);
      node = item;
    } else {
      return position(src, node);
    }
  }
  return position(src, node);
}

function position(src: YamlSource, node: unknown): Position | undefined {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  if (!range) return undefined;
  const { line, col } = src.lineCounter.linePos(range[0]);
  return { line, column: col };
}

export function issueAt(src: YamlSource, path: FieldPath, message: string, at: 'key' | 'value' = 'value'): ConfigIssue {
  const pos = locate(src, path, at);
  return { file: src.file, path: dotted(path), message, ...(pos ?? {}) };
}

/** Line and column (1-based) of an offset in plain text, for issues inside .sql files. */
export function textPosition(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The value at a path in plain data, or undefined. */
export function valueAt(data: unknown, path: FieldPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment as string];
  }
  return value;
}
