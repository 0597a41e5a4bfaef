// Runs a zod schema over one file's data and turns its issues into ConfigIssues with positions and
// messages that say what to write. Schemas may carry their own messages (noun phrases such as
// "an ad account id such as 'act_123'"); the generic ones below fill in the rest. No message ever
// repeats the value the user wrote, so a misplaced secret cannot leak through a type error.
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import { issueAt, valueAt, type FieldPath } from './positions.js';
import type { YamlSource } from './yaml-file.js';

export interface ValidateOptions {
  /** Where `data` sits inside the file, e.g. ['targets', 'dev', 'warehouse']. */
  prefix?: FieldPath;
  /** Drop issues at these paths (relative to data), e.g. values that are ${VAR} not yet interpolated. */
  ignore?: (path: FieldPath) => boolean;
  /** How to fix a missing field, by field name: { key: 'add key: <column>, ...' }. */
  missingHints?: Record<string, string>;
  /** What the keys of a mapping are, by its dotted path: { identifiers: 'identifier kind' }. */
  keyNouns?: Record<string, string>;
}

export function validate<S extends z.ZodType>(
  schema: S,
  data: unknown,
  src: YamlSource,
  issues: ConfigIssue[],
  options: ValidateOptions = {},
): z.output<S> | undefined {
  const generic = new Set<string>();
  const result = schema.safeParse(data, {
    error: (iss) => {
      const message = genericMessage(iss);
      if (message) generic.add(message);
      return message;
    },
  });
  if (result.success) return result.data;
  const prefix = options.prefix ?? [];
  const report = (zi: z.core.$ZodIssue, base: FieldPath): void => {
    const path = [...base, ...(zi.path as (string | number)[])];
    if (options.ignore?.(path)) return;
    if (zi.code === 'unrecognized_keys') {
      const allowed = objectKeysAt(schema, path);
      const noun = options.keyNouns?.[path.join('.')] ?? 'key';
      for (const key of zi.keys) issues.push(issueAt(src, [...prefix, ...path, key], unknownKeyMessage(key, allowed, noun), 'key'));
      return;
    }
    if (zi.code === 'invalid_union') {
      // A branch whose type matched but whose checks failed says more than "no branch matched".
      const matched = zi.errors.find((branch) => branch.length > 0 && branch.every((b) => b.code !== 'invalid_type'));
      if (matched) return matched.forEach((b) => report(b, path));
      const expected = zi.errors.flat().flatMap((b) => (b.code === 'invalid_type' && b.path.length === 0 ? [noun(b.expected)] : []));
      if (expected.length === zi.errors.length && valueAt(data, path) !== undefined) {
        issues.push(issueAt(src, [...prefix, ...path], `expected ${expected.join(' or ')}, got ${describe(valueAt(data, path))}`));
        return;
      }
    }
    let message: string;
    if (zi.code === 'invalid_type' && valueAt(data, path) === undefined) {
      const field = String(path[path.length - 1] ?? '');
      message = `missing required field '${field}'; ${options.missingHints?.[field] ?? 'add it here'}`;
    } else if (generic.has(zi.message) || zi.code === 'custom') {
      message = zi.message;
    } else {
      message = `must be ${zi.message}`;
    }
    issues.push(issueAt(src, [...prefix, ...path], message));
  };
  for (const zi of result.error.issues) report(zi, []);
  return undefined;
}

function genericMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      // YAML reads 1000 and true as a number and a boolean: quoting is the fix.
      if (iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean')) {
        return `expected a string, got ${describe(iss.input)}; write it in quotes`;
      }
      if (iss.expected === 'array' && iss.input !== undefined && !Array.isArray(iss.input)) {
        return `expected a list, got ${describe(iss.input)}; write it as a list, e.g. [first, second]`;
      }
      return `expected ${noun(iss.expected)}, got ${describe(iss.input)}`;
    case 'invalid_value':
      return `must be one of: ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at least ${iss.minimum} item(s)`;
      return `must be ${iss.inclusive ? 'at least' : 'greater than'} ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${iss.maximum} item(s)`;
      return `must be ${iss.inclusive ? 'at most' : 'less than'} ${iss.maximum}`;
    case 'invalid_format':
      if (iss.format === 'url') return 'must be a URL such as https://example.com';
      if (iss.format === 'regex') return `must match ${(iss as { pattern?: string }).pattern ?? 'the expected pattern'}`;
      return `must be a valid ${iss.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}`;
    case 'invalid_union':
      return 'does not match any accepted form';
    case 'invalid_key':
      return 'has a key that is not accepted here';
    default:
      return undefined;
  }
}

function noun(expected: string): string {
  const nouns: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    record: 'a mapping',
    int: 'a whole number',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
  };
  return nouns[expected] ?? expected;
}

/** The kind of value written, never the value itself. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

function unknownKeyMessage(key: string, allowed: string[], noun: string): string {
  if (allowed.length === 0) return `unknown ${noun} '${key}'; remove it`;
  const close = allowed.find((k) => editDistance(k, key) <= Math.max(1, Math.floor(k.length / 4)));
  const hint = close ? ` (did you mean '${close}'?)` : '';
  return `unknown ${noun} '${key}'${hint}; expected one of: ${allowed.join(', ')}`;
}

/** The keys an object schema accepts at a path, looking through optional/default/pipe wrappers. */
export function objectKeysAt(schema: z.ZodType, path: FieldPath): string[] {
  let def = unwrap(schema);
  for (const segment of path) {
    if (!def) return [];
    if (def.type === 'object') def = unwrap(def.shape[segment]);
    else if (def.type === 'array') def = unwrap(def.element);
    else if (def.type === 'record') def = unwrap(def.valueType);
    else return [];
  }
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

// zod's def objects are not typed for generic traversal; this is the one place that reads them.
function unwrap(schema: any): any {
  let def = schema?._zod?.def;
  while (def) {
    if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) def = def.innerType?._zod?.def;
    else if (def.type === 'pipe') def = def.in?._zod?.def;
    else if (def.type === 'lazy') def = def.getter?.()?._zod?.def;
    else return def;
  }
  return undefined;
}

/** Optimal string alignment distance: a swapped pair of letters ('emial') counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
