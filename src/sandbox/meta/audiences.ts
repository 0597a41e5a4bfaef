// Listing, creating and reading customer-list audiences: what resolveAudience needs.
import type { SimReply } from '../simulator.js';
import { invalidParam, unknownObject } from './errors.js';
import { authenticate, authorize, ok, type Exchange, type MetaEnv } from './context.js';
import type { MetaAudience } from './state.js';

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const FILE_SOURCES = new Set(['USER_PROVIDED_ONLY', 'PARTNER_PROVIDED_ONLY', 'BOTH_USER_AND_PARTNER_PROVIDED']);

export function listAudiences(env: MetaEnv, ex: Exchange, adAccountId: string): SimReply {
  ex.entry.op = 'list';
  authorize(env, ex, adAccountId);
  const { query } = ex.request;
  const fields = fieldList(query.get('fields'));
  const limit = pageLimit(query.get('limit'));
  const all = env.state.all().filter((a) => a.adAccountId === adAccountId);
  // Cursors carry the last id seen; ids grow with creation, so a page boundary survives new audiences.
  const after = query.get('after');
  const start = after === null ? 0 : all.findIndex((a) => BigInt(a.id) > decodeCursor(after));
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const body: Record<string, unknown> = { data: page.map((a) => pick(env, a, fields)) };
  if (page.length > 0) {
    const cursors = { before: encodeCursor(page[0]!.id), after: encodeCursor(page.at(-1)!.id) };
    const more = start + page.length < all.length;
    body.paging = more ? { cursors, next: nextLink(ex, cursors.after, limit) } : { cursors };
  }
  return ok(body);
}

export function createAudience(env: MetaEnv, ex: Exchange, adAccountId: string): SimReply {
  ex.entry.op = 'create';
  authorize(env, ex, adAccountId);
  const { name, subtype, description, customer_file_source: source } = ex.params;
  if (typeof name !== 'string' || name.trim() === '') throw invalidParam('The parameter name is required');
  if (subtype !== 'CUSTOM') throw invalidParam("The parameter subtype is required and must be 'CUSTOM' for a customer list audience");
  if (description !== undefined && typeof description !== 'string') throw invalidParam('description must be a string');
  if (source !== undefined && !(typeof source === 'string' && FILE_SOURCES.has(source))) {
    throw invalidParam(`customer_file_source must be one of ${[...FILE_SOURCES].join(', ')}`);
  }
  const audience = env.state.create({ adAccountId, name, description, customerFileSource: source as string | undefined });
  env.changed();
  return ok({ id: audience.id });
}

export function getAudience(env: MetaEnv, ex: Exchange, audienceId: string): SimReply {
  ex.entry.op = 'get';
  authenticate(env, ex);
  const audience = env.state.get(audienceId);
  // An audience of an account the caller may not use is "not found" to it, as on Graph.
  const visible = audience && (!env.policy.adAccounts || env.policy.adAccounts.has(audience.adAccountId));
  if (!audience || !visible) throw unknownObject(audienceId, 'GET');
  authorize(env, ex, audience.adAccountId);
  return ok(pick(env, audience, fieldList(ex.request.query.get('fields'))));
}

const FIELDS: Record<string, (env: MetaEnv, a: MetaAudience) => unknown> = {
  id: (_, a) => a.id,
  name: (_, a) => a.name,
  description: (_, a) => a.description ?? '',
  subtype: () => 'CUSTOM',
  customer_file_source: (_, a) => a.customerFileSource,
  account_id: (_, a) => a.adAccountId.replace(/^act_/, ''),
  approximate_count_lower_bound: (env, a) => env.state.approximateCount(a),
  approximate_count_upper_bound: (env, a) => env.state.approximateCount(a),
};

function fieldList(param: string | null): string[] {
  if (!param) return ['id']; // Graph answers only the id unless fields are asked for
  const fields = param.split(',').map((f) => f.trim()).filter(Boolean);
  for (const field of fields) {
    if (!Object.hasOwn(FIELDS, field)) throw invalidParam(`Tried accessing nonexisting field (${field.slice(0, 40)}) on node type (CustomAudience)`);
  }
  return fields.includes('id') ? fields : ['id', ...fields];
}

function pick(env: MetaEnv, audience: MetaAudience, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, FIELDS[f]!(env, audience)]).filter(([, v]) => v !== undefined));
}

function pageLimit(param: string | null): number {
  if (param === null) return DEFAULT_LIMIT;
  const limit = Number(param);
  if (!Number.isInteger(limit) || limit < 1) throw invalidParam('limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

function decodeCursor(cursor: string): bigint {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d+$/.test(id)) throw invalidParam('The after cursor is not valid');
  return BigInt(id);
}

/** Like Meta's, the link repeats the query (access_token included when it came that way). */
function nextLink(ex: Exchange, after: string, limit: number): string {
  const query = new URLSearchParams(ex.request.query);
  query.set('limit', String(limit));
  query.set('after', after);
  return `${ex.request.baseUrl}${ex.request.path}?${query}`;
}
