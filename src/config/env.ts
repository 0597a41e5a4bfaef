// ${VAR} interpolation for destination files and the active target's warehouse mapping.
// Secret fields are held to a stricter rule: the whole value must be one ${VAR} reference, so a
// token can never be committed to git inside a YAML file. Their values are registered for
// redaction and never appear in an issue.
import type { ConfigIssue } from '../core/errors.js';
import { registerSecret } from '../core/secrets.js';
import { SANDBOX_TOKEN } from '../sandbox/token.js';
import { dotted, issueAt, valueAt, type FieldPath } from './positions.js';
import type { YamlSource } from './yaml-file.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export interface InterpolateOptions {
  src: YamlSource;
  /** Where the data sits inside the file, e.g. ['targets', 'dev', 'warehouse']. */
  prefix: FieldPath;
  env: NodeJS.ProcessEnv;
  /** Dotted paths, relative to the data, that must be written as exactly one ${VAR}. */
  secretFields: string[];
  /** False for targets that are not active: check the secret rule, read no variables. */
  resolve: boolean;
  /** Sandbox targets give an unset secret the token the local simulators accept. */
  sandbox: boolean;
  /** Used in the fix suggestion: `access_token: ${<HINT>_ACCESS_TOKEN}`. */
  varPrefix: string;
}

export interface Interpolated {
  value: Record<string, unknown>;
  /** Dotted paths already reported here; a schema need not also say their value is malformed. */
  reported: Set<string>;
}

/** A copy of `data` with references replaced (when resolving); pushes an issue per problem. */
export function interpolateConfig(data: Record<string, unknown>, options: InterpolateOptions, issues: ConfigIssue[]): Interpolated {
  const reported = new Set<string>();
  const secretPaths = new Set(options.secretFields);
  const value = options.resolve ? (walk(data, [], options, secretPaths, issues, reported) as Record<string, unknown>) : data;
  for (const field of options.secretFields) {
    const path = field.split('.');
    const raw = valueAt(data, path);
    if (raw === undefined) continue;
    const before = issues.length;
    const secret = resolveSecret(raw, path, options, issues);
    if (issues.length > before) reported.add(field);
    if (options.resolve && secret !== undefined) setAt(value, path, secret);
  }
  return { value, reported };
}

function walk(value: unknown, path: string[], options: InterpolateOptions, secretPaths: Set<string>, issues: ConfigIssue[], reported: Set<string>): unknown {
  if (secretPaths.has(path.join('.'))) return value; // resolved by resolveSecret
  if (typeof value === 'string') {
    const before = issues.length;
    const text = interpolateString(value, path, options, issues);
    if (issues.length > before) reported.add(path.join('.'));
    return text;
  }
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)], options, secretPaths, issues, reported));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k], options, secretPaths, issues, reported)]));
  }
  return value;
}

function interpolateString(text: string, path: string[], options: InterpolateOptions, issues: ConfigIssue[]): string {
  return text.replace(REFERENCE, (match: string, name: string | undefined) => {
    if (match === '$${') return '${';
    const fieldPath = [...options.prefix, ...path];
    if (name === undefined) {
      issues.push(issueAt(options.src, fieldPath, 'unclosed ${ reference; write ${NAME}, or $${ for a literal ${'));
      return match;
    }
    if (!VAR_NAME.test(name)) {
      issues.push(issueAt(options.src, fieldPath, `'\${${name}}' is not a variable reference; use letters, digits and underscores, or write $\${ for a literal \${`));
      return match;
    }
    const value = options.env[name];
    if (value === undefined) {
      issues.push(issueAt(options.src, fieldPath, `environment variable ${name} is not set; set ${name} in the environment`));
      return match;
    }
    return value;
  });
}

function resolveSecret(raw: unknown, path: string[], options: InterpolateOptions, issues: ConfigIssue[]): string | undefined {
  const fieldPath = [...options.prefix, ...path];
  const field = path[path.length - 1]!;
  const example = `${field}: \${${`${options.varPrefix}_${field}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}`;
  const match = typeof raw === 'string' ? SECRET_REFERENCE.exec(raw) : null;
  if (!match) {
    const looksLikeReference = typeof raw === 'string' && raw.includes('${');
    issues.push(
      issueAt(
        options.src,
        fieldPath,
        looksLikeReference
          ? `a secret must be exactly one \${VAR} reference with nothing around it; write ${example} and set the variable`
          : `a literal secret in a file would be committed to git; write ${example} and set the variable`,
      ),
    );
    return undefined;
  }
  if (!options.resolve) return undefined;
  const name = match[1]!;
  const value = options.env[name];
  if (value === undefined || value === '') {
    if (options.sandbox) return SANDBOX_TOKEN;
    issues.push(issueAt(options.src, fieldPath, `environment variable ${name} is not set; set ${name} in the environment (it holds ${dotted(path)})`));
    return undefined;
  }
  registerSecret(value);
  return value;
}

function setAt(data: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = data;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

/** True when a value still holds a ${VAR} reference (an inactive target's, validated uninterpolated). */
export function hasReference(value: unknown): boolean {
  return typeof value === 'string' && /(^|[^$])\$\{/.test(value);
}
