// The two template functions a model's SQL may use, and nothing else: {{ var('name'[, default]) }}
// and {{ ref('model') }}. A deliberately tiny language, so a model's SQL stays readable as SQL
// and `audsync compile` shows exactly what runs.
import type { ConfigIssue } from '../core/errors.js';

export interface ModelSql {
  model: string;
  sql: string;
  /** An issue about the expression at this offset of `sql` (inline SQL or a .sql file). */
  issueAt: (offset: number, message: string) => ConfigIssue;
}

type Part = string | { ref: string; offset: number };

const EXPRESSION = /\{\{([\s\S]*?)\}\}/g;
const QUOTED_NAME = String.raw`\s*(?:'([^']*)'|"([^"]*)")\s*`;
const VAR_CALL = new RegExp(String.raw`^var\(${QUOTED_NAME}(?:,\s*(?:'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?))\s*)?\)$`);
const REF_CALL = new RegExp(String.raw`^ref\(${QUOTED_NAME}\)$`);
const SUPPORTED = "only {{ var('name') }}, {{ var('name', default) }} and {{ ref('model') }} are supported";

/**
 * Rendered SQL per model; a model with a problem (its own or a ref's) is left out. With `vars`
 * undefined (audsync.yml unreadable) an undefined var is not reported: it may well be defined there.
 * `allModels` names every model file's model, including those whose SQL could not be read, so a
 * ref to one of them is not reported a second time.
 */
export function renderModels(
  models: ModelSql[],
  allModels: ReadonlySet<string>,
  vars: Record<string, unknown> | undefined,
  issues: ConfigIssue[],
): Map<string, string> {
  const parsed = new Map<string, { parts: Part[]; ok: boolean; source: ModelSql }>();
  for (const source of models) {
    if (parsed.has(source.model)) continue; // a duplicate name is reported elsewhere
    const { parts, ok } = substituteVars(source, vars, issues);
    parsed.set(source.model, { parts, ok, source });
  }

  const rendered = new Map<string, string>();
  const failed = new Set<string>();
  const reportedCycles = new Set<string>();

  const render = (name: string, stack: string[]): string | undefined => {
    if (rendered.has(name)) return rendered.get(name);
    if (failed.has(name)) return undefined;
    const model = parsed.get(name)!;
    let ok = model.ok;
    let sql = '';
    for (const part of model.parts) {
      if (typeof part === 'string') {
        sql += part;
        continue;
      }
      if (!parsed.has(part.ref)) {
        if (!allModels.has(part.ref)) {
          const others = [...allModels].filter((m) => m !== name);
          const known = others.length > 0 ? `models it can ref: ${others.join(', ')}` : `there is no other model yet; add models/${part.ref}.yml`;
          issues.push(model.source.issueAt(part.offset, `model '${name}': ref('${part.ref}') names no model; ${known}`));
        }
        ok = false;
        continue;
      }
      const cycleStart = [...stack, name].indexOf(part.ref);
      if (cycleStart >= 0) {
        const cycle = [...stack, name].slice(cycleStart);
        const key = [...cycle].sort().join(',');
        if (!reportedCycles.has(key)) {
          reportedCycles.add(key);
          const chain = [...cycle, part.ref].join(' -> ');
          issues.push(model.source.issueAt(part.offset, `model '${name}': ref cycle ${chain}; a model cannot depend on itself`));
        }
        ok = false;
        continue;
      }
      const inner = render(part.ref, [...stack, name]);
      if (inner === undefined) ok = false;
      else sql += `(\n${inner}\n)`;
    }
    if (!ok) {
      failed.add(name);
      return undefined;
    }
    const clean = cleanSql(sql);
    rendered.set(name, clean);
    return clean;
  };

  for (const name of parsed.keys()) render(name, []);
  return rendered;
}

function substituteVars(source: ModelSql, vars: Record<string, unknown> | undefined, issues: ConfigIssue[]): { parts: Part[]; ok: boolean } {
  const parts: Part[] = [];
  let ok = true;
  let last = 0;
  for (const match of source.sql.matchAll(EXPRESSION)) {
    const offset = match.index;
    parts.push(source.sql.slice(last, offset));
    last = offset + match[0].length;
    const expression = match[1]!.trim();
    const call = VAR_CALL.exec(expression);
    if (call) {
      const name = call[1] ?? call[2]!;
      const fallback = call[3] ?? call[4] ?? call[5];
      const value = vars && Object.hasOwn(vars, name) ? vars[name] : fallback;
      const text = varText(source.model, name, value);
      if (text.ok) parts.push(text.value);
      else if (vars === undefined && value === undefined) ok = false;
      else {
        issues.push(source.issueAt(offset, text.message));
        ok = false;
      }
      continue;
    }
    const ref = REF_CALL.exec(expression);
    if (ref) {
      parts.push({ ref: ref[1] ?? ref[2]!, offset });
      continue;
    }
    issues.push(source.issueAt(offset, `model '${source.model}': unsupported template expression '{{ ${expression} }}'; ${SUPPORTED}`));
    ok = false;
  }
  const rest = source.sql.slice(last);
  const unclosed = rest.indexOf('{{');
  if (unclosed >= 0) {
    issues.push(source.issueAt(last + unclosed, `model '${source.model}': '{{' without a closing '}}'`));
    ok = false;
  }
  parts.push(rest);
  return { parts, ok };
}

function varText(model: string, name: string, value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  if (value === undefined) {
    return {
      ok: false,
      message: `model '${model}': var '${name}' is not defined; add it under vars: in audsync.yml, pass --vars '{"${name}": ...}', or give a default: {{ var('${name}', ...) }}`,
    };
  }
  // Strings go in as written: the SQL around them decides whether they are quoted.
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return { ok: true, value: String(value) };
  }
  const what = value === null ? 'has no value' : Array.isArray(value) ? 'is a list' : 'is a mapping';
  return { ok: false, message: `model '${model}': var '${name}' ${what}; only strings, numbers and booleans can be put into SQL` };
}

/** Model SQL is wrapped by the warehouse (CREATE TABLE ... AS, subqueries): no trailing semicolon. */
function cleanSql(sql: string): string {
  return sql.trim().replace(/(\s*;)+$/, '').trimEnd();
}
