// Path dispatch for the Graph API subset audsync uses.
import { BodyParseError } from '../body.js';
import type { SimReply, SimRequest } from '../simulator.js';
import { createAudience, getAudience, listAudiences } from './audiences.js';
import type { Exchange, MetaEnv } from './context.js';
import { GraphFailure, invalidParam, unknownObject, unknownPath } from './errors.js';
import { bodyParams } from './rows-scan.js';
import { changeUsers } from './users.js';

const VERSION = /^v\d+\.0$/;
const ACCOUNT = /^act_\d+$/;
const OBJECT_ID = /^\d+$/;

export async function route(env: MetaEnv, ex: Exchange): Promise<SimReply> {
  const { method } = ex.request;
  const [version = '', node = '', edge, ...rest] = ex.request.path.split('/').filter(Boolean);
  if (!VERSION.test(version)) {
    throw new GraphFailure(400, 2500, `Unknown path components: /${version.slice(0, 20)} is not an API version such as v21.0`);
  }
  ex.params = readParams(ex.request);
  if (rest.length === 0 && ACCOUNT.test(node) && edge === 'customaudiences') {
    if (method === 'GET') return listAudiences(env, ex, node);
    if (method === 'POST') return createAudience(env, ex, node);
  }
  if (rest.length === 0 && OBJECT_ID.test(node)) {
    if (edge === undefined && method === 'GET') return getAudience(env, ex, node);
    if (edge === 'users' && method === 'POST') return changeUsers(env, ex, node, 'add');
    if (edge === 'users' && method === 'DELETE') return changeUsers(env, ex, node, 'remove');
    if (edge === 'usersreplace' && method === 'POST') return changeUsers(env, ex, node, 'replace');
  }
  if (OBJECT_ID.test(node) || ACCOUNT.test(node)) throw unknownObject(node, method);
  throw unknownPath(`/${node.slice(0, 40)}`);
}

/** Graph reads params from the query string and the body alike; the body wins. */
function readParams(request: SimRequest): Record<string, unknown> {
  try {
    return { ...Object.fromEntries(request.query), ...bodyParams(request.body, request.headers['content-type']) };
  } catch (error) {
    if (error instanceof BodyParseError) throw invalidParam(error.message);
    throw error;
  }
}
