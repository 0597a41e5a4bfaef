// Data Manager API: audienceMembers:ingest, :remove, :removeAll and requestStatus:retrieve.
// Membership changes when a request is accepted; its status reads PROCESSING until the
// processing delay has passed (or completeRequests() is called), then SUCCESS.
import { sleep } from '../faults.js';
import type { SimReply } from '../simulator.js';
import { authenticate, canAccess } from './auth.js';
import { findList, jsonBody, type Exchange, type GoogleEnv } from './context.js';
import { validateDmBody, type DmOpName } from './dm-validate.js';
import { dmInvalid, dmPermissionDenied, notFound } from './errors.js';
import { checkRate, injectedFault, matchRange } from './faults.js';
import type { DmRequest, UserList } from './state.js';

export async function changeMembers(env: GoogleEnv, ex: Exchange, op: DmOpName): Promise<SimReply> {
  ex.entry.op = op;
  const body = jsonBody(ex.request);
  ex.entry.members = Array.isArray(body.audienceMembers) ? body.audienceMembers.length : 0;

  if (env.faults.latencyMs > 0) await sleep(env.faults.latencyMs);
  const fault = op === 'remove_all' ? env.faults.nextQueued(op) : env.faults.next(op);
  if (fault) return injectedFault(env, ex, fault);

  authenticate(env.tokens, ex.request.headers);
  checkRate(env);
  const now = env.now();
  const valid = validateDmBody(body, op, now);

  const lists: UserList[] = [];
  for (const d of valid.destinations) {
    if (!canAccess(env.policy, d.customerId, d.loginAccountId)) throw dmPermissionDenied();
    const list = findList(env, d.customerId, d.listId);
    const field = `${d.path}.product_destination_id`;
    if (!list) throw dmInvalid([{ field, description: 'The user list does not exist in the operating account.', reason: 'INVALID_USER_LIST_ID' }], 'INVALID_USER_LIST_ID');
    if (list.type !== 'CRM_BASED') {
      throw dmInvalid([{ field, description: 'The user list is not a Customer Match list.', reason: 'INVALID_USER_LIST_TYPE' }], 'INVALID_USER_LIST_TYPE');
    }
    if (op === 'ingest' && env.policy.termsNotAccepted.has(d.customerId)) {
      throw dmInvalid(
        [{ field: `${d.path}.operating_account`, description: 'The operating account has not accepted the Customer Match terms.', reason: 'TERMS_AND_CONDITIONS_NOT_SIGNED' }],
        'TERMS_AND_CONDITIONS_NOT_SIGNED',
      );
    }
    lists.push(list);
  }
  if (valid.violations.length > 0) throw dmInvalid(valid.violations);
  ex.entry.identifiers = valid.identifierCount;
  if (valid.validateOnly) return { status: 200, body: {} };

  const identifiers = valid.members.flat();
  if (op === 'ingest') {
    const members = (body as { audienceMembers?: { consent?: unknown }[]; consent?: unknown }).audienceMembers ?? [];
    valid.members.forEach((ids, i) => {
      const consent = members[i]?.consent ?? (body as { consent?: unknown }).consent;
      for (const list of lists) for (const id of ids) env.state.consent.set(`${list.id}:${id.type}:${id.key}`, consent);
    });
  }
  for (const list of lists) {
    if (op === 'ingest') env.state.add(list, identifiers, now);
    else if (op === 'remove') env.state.remove(list, identifiers);
    else env.state.removeAll(list, valid.removeAsOf ?? now);
  }
  const request = env.state.recordRequest({
    op,
    createdAt: now,
    readyAt: now + env.policy.processingMs,
    destinations: valid.destinations.map(({ customerId, listId, loginAccountId }) => ({ customerId, listId, loginAccountId })),
    recordCount: valid.members.length,
    identifierCount: valid.identifierCount,
  });
  env.changed();
  return { status: 200, body: { requestId: request.id } };
}

export async function retrieveStatus(env: GoogleEnv, ex: Exchange): Promise<SimReply> {
  ex.entry.op = 'status';
  const fault = env.faults.nextQueued('status');
  if (fault) return injectedFault(env, ex, fault);
  authenticate(env.tokens, ex.request.headers);
  const id = ex.request.query.get('requestId');
  if (!id) throw dmInvalid([{ field: 'request_id', description: 'The request id is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
  const request = env.state.requests.get(id);
  if (!request) throw notFound('Request ID not found.');
  const status = requestStatus(env, request);
  return {
    status: 200,
    body: { requestStatusPerDestination: request.destinations.map((d) => perDestination(env, request, d, status)) },
  };
}

export function requestStatus(env: GoogleEnv, request: DmRequest): 'PROCESSING' | 'SUCCESS' {
  return env.now() < request.readyAt ? 'PROCESSING' : 'SUCCESS';
}

function perDestination(env: GoogleEnv, request: DmRequest, d: DmRequest['destinations'][number], status: string): Record<string, unknown> {
  const destination = {
    operatingAccount: { accountType: 'GOOGLE_ADS', accountId: d.customerId },
    ...(d.loginAccountId ? { loginAccount: { accountType: 'GOOGLE_ADS', accountId: d.loginAccountId } } : {}),
    productDestinationId: d.listId,
  };
  const counts = { recordCount: String(request.recordCount), userIdentifierCount: String(request.identifierCount) };
  const result: Record<string, unknown> = { destination, requestStatus: status };
  if (request.op === 'ingest') {
    const range = status === 'SUCCESS' ? `MATCH_RATE_RANGE_${matchRange(env.policy.matchRatePercent)}` : 'MATCH_RATE_RANGE_UNKNOWN';
    result.audienceMembersIngestionStatus = { userDataIngestionStatus: { ...counts, uploadMatchRateRange: range } };
  } else if (request.op === 'remove') {
    result.audienceMembersRemovalStatus = { userDataRemovalStatus: counts };
  }
  return result;
}
