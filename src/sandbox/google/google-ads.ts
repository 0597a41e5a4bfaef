// Google Ads API OfflineUserDataJob flow: create -> addOperations -> run, and the job's status
// through googleAds:search. Operations are staged on the job and applied to the list when it is
// run; the job then reads RUNNING until the processing delay has passed (or completeJobs()), and
// while it runs, running a second job on the same list answers CONCURRENT_MODIFICATION.
import { randomBytes } from 'node:crypto';
import { sleep } from '../faults.js';
import type { SimReply } from '../simulator.js';
import { checkAccess, type AdsCall } from './ads-context.js';
import { checkOperations } from './ads-validate.js';
import { findList, jsonBody, type Exchange, type GoogleEnv } from './context.js';
import { adsError, adsInvalid, invalidJson, notFound, type AdsError } from './errors.js';
import { checkRate, injectedFault, matchRange } from './faults.js';
import { checkKeys } from './json-shape.js';
import type { Job } from './state.js';

const CONSENT = ['UNSPECIFIED', 'UNKNOWN', 'GRANTED', 'DENIED'];

export async function createJob(env: GoogleEnv, ex: Exchange, call: AdsCall): Promise<SimReply> {
  ex.entry.op = 'create_job';
  const body = jsonBody(ex.request);
  const fault = env.faults.nextQueued('create_job');
  if (fault) return injectedFault(env, ex, fault, call.version);
  checkAccess(env, ex, call);
  const { version, customerId } = call;
  checkKeys(body, ['job', 'validateOnly', 'enableMatchRateRangePreview'], '');
  const job = (body.job && typeof body.job === 'object' ? body.job : {}) as Record<string, unknown>;
  if (job.type !== 'CUSTOMER_MATCH_USER_LIST') {
    throw adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'INVALID_JOB_TYPE' }, message: 'The sandbox runs CUSTOMER_MATCH_USER_LIST jobs only.' }]);
  }
  const metadata = (job.customerMatchUserListMetadata ?? {}) as Record<string, unknown>;
  const match = typeof metadata.userList === 'string' ? /^customers\/(\d+)\/userLists\/(\d+)$/.exec(metadata.userList) : null;
  if (!match) {
    throw adsInvalid(version, [{ errorCode: { fieldError: 'REQUIRED' }, message: 'customer_match_user_list_metadata.user_list must be customers/{customer_id}/userLists/{user_list_id}.' }]);
  }
  const consent = metadata.consent as Record<string, unknown> | undefined;
  for (const [field, value] of Object.entries(consent ?? {})) {
    if (!['adUserData', 'adPersonalization'].includes(field) || typeof value !== 'string' || !CONSENT.includes(value)) {
      const path = `job.customer_match_user_list_metadata.consent.${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
      throw invalidJson(`Invalid value at '${path}' (type.googleapis.com/google.ads.googleads.${version}.enums.ConsentStatusEnum.ConsentStatus), "${String(value).slice(0, 40)}"`, path);
    }
  }
  const list = match[1] === customerId ? findList(env, customerId, match[2]!) : undefined;
  if (!list) throw adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'INVALID_USER_LIST_ID' }, message: 'The user list does not exist in this customer.' }]);
  if (list.type !== 'CRM_BASED') throw adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'INVALID_USER_LIST_TYPE' }, message: 'The user list is not a Customer Match list.' }]);
  if (env.policy.termsNotAccepted.has(customerId)) {
    throw adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS' }, message: 'The customer has not accepted the Customer Match terms.' }]);
  }
  if (body.validateOnly === true) return { status: 200, body: {} };
  const created = env.state.createJob(customerId, list.id, consent as Record<string, string> | undefined);
  env.changed();
  return { status: 200, body: { resourceName: resourceName(created) } };
}

export async function addOperations(env: GoogleEnv, ex: Exchange, call: AdsCall, jobId: string): Promise<SimReply> {
  ex.entry.op = 'add_operations';
  const body = jsonBody(ex.request);
  ex.entry.members = Array.isArray(body.operations) ? body.operations.length : 0;
  if (env.faults.latencyMs > 0) await sleep(env.faults.latencyMs);
  const fault = env.faults.next('add_operations');
  if (fault) return injectedFault(env, ex, fault, call.version);
  checkAccess(env, ex, call);
  checkRate(env, call.version);
  const job = findJob(env, call, jobId);
  if (job.status !== 'PENDING') throw jobStarted(call.version);

  const checked = checkOperations(call.version, body, job.staged.length > 0 || job.counts.removeAll);
  ex.entry.identifiers = checked.identifiers;
  const partial = body.enablePartialFailure === true;
  if (checked.errors.length > 0 && !partial) throw adsInvalid(call.version, checked.errors);
  if (body.validateOnly === true) return { status: 200, body: {} };
  for (const op of checked.ops) {
    if (!op) continue;
    job.staged.push(op);
    if (op.kind === 'removeAll') job.counts.removeAll = true;
    else job.counts[op.kind === 'create' ? 'creates' : 'removes']++;
  }
  if (checked.errors.length === 0) return { status: 200, body: {} };
  ex.entry.reason = Object.values(checked.errors[0]!.errorCode)[0];
  return { status: 200, body: { partialFailureError: partialFailure(call.version, checked.errors) } };
}

export async function runJob(env: GoogleEnv, ex: Exchange, call: AdsCall, jobId: string): Promise<SimReply> {
  ex.entry.op = 'run_job';
  jsonBody(ex.request);
  const fault = env.faults.nextQueued('run_job');
  if (fault) return injectedFault(env, ex, fault, call.version);
  checkAccess(env, ex, call);
  const job = findJob(env, call, jobId);
  if (job.status !== 'PENDING') throw jobStarted(call.version);
  const now = env.now();
  const busy = [...env.state.jobs.values()].some((other) => other !== job && other.listId === job.listId && jobStatus(env, other) === 'RUNNING');
  if (busy) {
    throw adsInvalid(call.version, [
      { errorCode: { databaseError: 'CONCURRENT_MODIFICATION' }, message: 'Multiple requests were attempting to modify the same resource at once. Retry the request.' },
    ]);
  }
  const list = env.state.lists.get(job.listId);
  for (const op of job.staged) {
    if (!list) break;
    if (op.kind === 'removeAll') env.state.removeAll(list, now);
    else if (op.kind === 'create') env.state.add(list, op.identifiers, now);
    else env.state.remove(list, op.identifiers);
  }
  ex.entry.members = job.staged.length;
  job.staged = [];
  job.status = 'RUNNING';
  job.readyAt = now + env.policy.processingMs;
  env.changed();
  return { status: 200, body: { name: `customers/${call.customerId}/operations/${job.id}-${randomBytes(4).toString('hex')}` } };
}

/** GAQL, the subset a status check needs: FROM offline_user_data_job [WHERE ...resource_name = '...' | ...id = N]. */
export async function search(env: GoogleEnv, ex: Exchange, call: AdsCall): Promise<SimReply> {
  ex.entry.op = 'search';
  const body = jsonBody(ex.request);
  checkAccess(env, ex, call);
  const query = typeof body.query === 'string' ? body.query : '';
  if (!/\bFROM\s+offline_user_data_job\b/i.test(query)) {
    throw adsInvalid(call.version, [{ errorCode: { queryError: 'PROHIBITED_RESOURCE_TYPE_IN_FROM_CLAUSE' }, message: 'The sandbox answers queries FROM offline_user_data_job only.' }]);
  }
  const byName = /offline_user_data_job\.resource_name\s*=\s*'([^']*)'/i.exec(query)?.[1];
  const byId = /offline_user_data_job\.id\s*=\s*(\d+)/i.exec(query)?.[1];
  const jobs = [...env.state.jobs.values()].filter(
    (j) => j.customerId === call.customerId && (byName === undefined || resourceName(j) === byName) && (byId === undefined || j.id === byId),
  );
  return { status: 200, body: { results: jobs.map((j) => ({ offlineUserDataJob: jobRow(env, j) })) } };
}

export function jobStatus(env: GoogleEnv, job: Job): Job['status'] {
  if (job.status === 'RUNNING' && env.now() >= (job.readyAt ?? 0)) job.status = 'SUCCESS';
  return job.status;
}

function jobRow(env: GoogleEnv, job: Job): Record<string, unknown> {
  const status = jobStatus(env, job);
  return {
    resourceName: resourceName(job),
    id: job.id,
    type: 'CUSTOMER_MATCH_USER_LIST',
    status,
    customerMatchUserListMetadata: { userList: `customers/${job.customerId}/userLists/${job.listId}`, ...(job.consent ? { consent: job.consent } : {}) },
    ...(status === 'SUCCESS' ? { operationMetadata: { matchRateRange: `MATCH_RANGE_${matchRange(env.policy.matchRatePercent)}` } } : {}),
  };
}

function findJob(env: GoogleEnv, call: AdsCall, jobId: string): Job {
  const job = env.state.jobs.get(jobId);
  if (!job || job.customerId !== call.customerId) throw notFound(`Requested entity was not found: customers/${call.customerId}/offlineUserDataJobs/${jobId.slice(0, 20)}`);
  return job;
}

function jobStarted(version: string) {
  return adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'JOB_ALREADY_STARTED' }, message: 'The job has already been run; create a new job.' }]);
}

export function resourceName(job: Job): string {
  return `customers/${job.customerId}/offlineUserDataJobs/${job.id}`;
}

function partialFailure(version: string, errors: AdsError[]): Record<string, unknown> {
  const failure = adsError(version, 400, 'INVALID_ARGUMENT', errors);
  const first = errors[0]!;
  return { code: 3, message: errors.length === 1 ? first.message : `Multiple errors in 'details'. First error: ${first.message}`, details: failure.details };
}
