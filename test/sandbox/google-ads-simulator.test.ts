// The Google simulator's Google Ads API OfflineUserDataJob flow, driven with raw fetch: headers,
// the job lifecycle, operation limits and partial failure, removeAll, one running job per list.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');
const CID = '1234567890';
const LIST = '7777777777';
const V = 'v24';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox(options);
  return sandbox;
}

interface Answer {
  status: number;
  body: any;
}

const HEADERS = { authorization: `Bearer ${SANDBOX_TOKEN}`, 'developer-token': SANDBOX_TOKEN };

async function post(path: string, json: unknown, headers: Record<string, string | undefined> = {}): Promise<Answer> {
  const merged = Object.fromEntries(Object.entries({ ...HEADERS, 'content-type': 'application/json', ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const response = await fetch(`${sandbox!.urlFor('google')}/${V}/customers/${path}`, { method: 'POST', headers: merged, body: JSON.stringify(json) });
  return { status: response.status, body: await response.json() };
}

const createJob = (list = LIST, extra: Record<string, unknown> = {}, headers: Record<string, string | undefined> = {}, customer = CID) =>
  post(`${customer}/offlineUserDataJobs:create`, { job: { type: 'CUSTOMER_MATCH_USER_LIST', customerMatchUserListMetadata: { userList: `customers/${CID}/userLists/${list}`, ...extra } } }, headers);
const jobPath = (name: string) => name.replace(/^customers\//, '');
const addOperations = (name: string, operations: unknown[], partial = true) => post(`${jobPath(name)}:addOperations`, { enablePartialFailure: partial, operations });
const run = (name: string) => post(`${jobPath(name)}:run`, {});
const create = (...ids: Record<string, unknown>[]) => ({ create: { userIdentifiers: ids } });
const removeOp = (...ids: Record<string, unknown>[]) => ({ remove: { userIdentifiers: ids } });
const adsErrors = (answer: { details?: any[] }) => answer.details!.find((d: any) => d['@type'] === `type.googleapis.com/google.ads.googleads.${V}.errors.GoogleAdsFailure`).errors;

async function newJob(list = LIST): Promise<string> {
  const answer = await createJob(list);
  expect(answer.status).toBe(200);
  return answer.body.resourceName;
}

describe('Google simulator: Google Ads headers', () => {
  it('wants a bearer token, a valid developer-token and a digits-only login-customer-id', async () => {
    await start({ google: { developerTokens: ['dev-token-1'], customers: ['9999999999'], managers: { '9999999999': [CID] } } });
    const noBearer = await createJob(LIST, {}, { authorization: undefined, 'developer-token': 'dev-token-1' });
    expect([noBearer.status, noBearer.body.error.status]).toEqual([401, 'UNAUTHENTICATED']);
    expect(adsErrors(noBearer.body.error)[0].errorCode).toEqual({ authenticationError: 'OAUTH_TOKEN_HEADER_INVALID' });
    const missing = await createJob(LIST, {}, { 'developer-token': undefined });
    expect([missing.status, adsErrors(missing.body.error)[0].errorCode]).toEqual([401, { authenticationError: 'DEVELOPER_TOKEN_PARAMETER_MISSING' }]);
    const wrong = await createJob(LIST, {}, { 'developer-token': 'another' });
    expect(adsErrors(wrong.body.error)[0].errorCode).toEqual({ authenticationError: 'DEVELOPER_TOKEN_INVALID' });
    const hyphens = await createJob(LIST, {}, { 'developer-token': 'dev-token-1', 'login-customer-id': '999-999-9999' });
    expect([hyphens.status, adsErrors(hyphens.body.error)[0].errorCode]).toEqual([400, { headerError: 'INVALID_LOGIN_CUSTOMER_ID' }]);
    const noLogin = await createJob(LIST, {}, { 'developer-token': 'dev-token-1' });
    expect([noLogin.status, noLogin.body.error.status, adsErrors(noLogin.body.error)[0].errorCode]).toEqual([
      403,
      'PERMISSION_DENIED',
      { authorizationError: 'USER_PERMISSION_DENIED' },
    ]);
    expect(adsErrors(noLogin.body.error)[0].message).toContain('login-customer-id');
    const viaManager = await createJob(LIST, {}, { 'developer-token': 'dev-token-1', 'login-customer-id': '9999999999' });
    expect(viaManager.body.resourceName).toBe(`customers/${CID}/offlineUserDataJobs/9000000001`);
  });
});

describe('Google simulator: OfflineUserDataJob lifecycle', () => {
  it('stages operations on the job, applies them when it runs, and reports RUNNING then SUCCESS', async () => {
    let now = 1_000;
    await start({ google: { now: () => now, processingMs: 5_000, matchRatePercent: 95 } });
    const name = await newJob();
    const address = { hashedFirstName: sha('dana'), hashedLastName: sha('doe'), countryCode: 'US', postalCode: '94045' };
    expect(await addOperations(name, [create({ hashedEmail: sha('a') }, { hashedPhoneNumber: sha('+18005550100') }, { addressInfo: address }), create({ hashedEmail: sha('b') })])).toEqual({
      status: 200,
      body: {},
    });
    expect(sandbox!.google.members(LIST)).toEqual([]); // staged, not applied
    expect((await run(name)).body.name).toMatch(new RegExp(`^customers/${CID}/operations/`));
    expect(sandbox!.google.members(LIST)).toEqual([sha('a'), sha('b')].sort());
    expect(sandbox!.google.members(LIST, 'phone')).toEqual([sha('+18005550100')]);
    expect(sandbox!.google.members(LIST, 'address')).toEqual([`${sha('dana')}|${sha('doe')}|US|94045`]);

    const query = (where: string) => post(`${CID}/googleAds:search`, { query: `SELECT offline_user_data_job.status FROM offline_user_data_job WHERE ${where}` });
    const running = await query(`offline_user_data_job.resource_name = '${name}'`);
    expect(running.body.results).toEqual([
      { offlineUserDataJob: { resourceName: name, id: '9000000001', type: 'CUSTOMER_MATCH_USER_LIST', status: 'RUNNING', customerMatchUserListMetadata: { userList: `customers/${CID}/userLists/${LIST}` } } },
    ]);
    now += 5_000;
    const done = (await query('offline_user_data_job.id = 9000000001')).body.results[0].offlineUserDataJob;
    expect([done.status, done.operationMetadata]).toEqual(['SUCCESS', { matchRateRange: 'MATCH_RANGE_91_TO_100' }]);
    expect(sandbox!.google.jobs()).toEqual([{ resourceName: name, listId: LIST, status: 'SUCCESS', creates: 2, removes: 0, removeAll: false }]);
    expect((await post(`${CID}/googleAds:search`, { query: 'SELECT user_list.id FROM user_list' })).status).toBe(400);

    const second = await newJob();
    await addOperations(second, [removeOp({ hashedEmail: sha('a') })]);
    await run(second);
    expect(sandbox!.google.members(LIST)).toEqual([sha('b')]);
  });

  it('answers a partial failure with HTTP 200 naming each bad operation, keeping the good ones', async () => {
    await start();
    const name = await newJob();
    const answer = await addOperations(name, [
      create({ hashedEmail: sha('a') }),
      create({ hashedEmail: sha('b').toUpperCase() }),
      create({ hashedEmail: sha('c') }),
      create({ hashedEmail: sha('d'), hashedPhoneNumber: sha('+1') }),
      create(...Array.from({ length: 21 }, (_, i) => ({ hashedEmail: sha(`x${i}`) }))),
      { create: { userIdentifiers: [{ hashedEmail: sha('e') }], consent: { adUserData: 'GRANTED' } } },
      create({ mobileId: 'abc' }),
      create({ addressInfo: { hashedFirstName: sha('a'), hashedLastName: sha('b'), countryCode: 'US' } }),
    ]);
    expect(answer.status).toBe(200);
    const failure = answer.body.partialFailureError;
    expect(failure).toMatchObject({ code: 3, message: expect.stringContaining('Multiple errors') });
    expect(adsErrors(failure).map((e: any) => [e.location.fieldPathElements[0], Object.values(e.errorCode)[0]])).toEqual([
      [{ fieldName: 'operations', index: 1 }, 'INVALID_SHA256_FORMAT'],
      [{ fieldName: 'operations', index: 3 }, 'ONEOF_ALREADY_SET'],
      [{ fieldName: 'operations', index: 4 }, 'TOO_MANY_USER_IDENTIFIERS'],
      [{ fieldName: 'operations', index: 5 }, 'OPERATION_LEVEL_CONSENT_PROVIDED'],
      [{ fieldName: 'operations', index: 6 }, 'INCOMPATIBLE_UPLOAD_KEY_TYPE'],
      [{ fieldName: 'operations', index: 7 }, 'REQUIRED'],
    ]);
    expect(adsErrors(failure)[0].location.fieldPathElements).toEqual([
      { fieldName: 'operations', index: 1 },
      { fieldName: 'create' },
      { fieldName: 'user_identifiers', index: 0 },
      { fieldName: 'hashed_email' },
    ]);
    expect(JSON.stringify(failure)).not.toContain(sha('b').toUpperCase());
    await run(name);
    expect(sandbox!.google.members(LIST)).toEqual([sha('a'), sha('c')].sort());
  });

  it('refuses the whole request without partial failure, and above 100,000 identifiers even with it', async () => {
    await start();
    const name = await newJob();
    const strict = await addOperations(name, [create({ hashedEmail: sha('a') }), create({ hashedEmail: 'nope' })], false);
    expect([strict.status, strict.body.error.status, adsErrors(strict.body.error)[0].location.fieldPathElements[0].index]).toEqual([400, 'INVALID_ARGUMENT', 1]);
    const full = Array.from({ length: 5_000 }, (_, i) => create(...Array.from({ length: 20 }, (_, j) => ({ hashedEmail: sha(`${i}:${j}`) }))));
    expect((await addOperations(name, full)).status).toBe(200); // exactly 100,000
    const over = await addOperations(name, [...full.slice(0, 4_999), create(...Array.from({ length: 20 }, (_, j) => ({ hashedEmail: sha(`y${j}`) }))), create({ hashedEmail: sha('z') })]);
    expect(over.status).toBe(400);
    expect(adsErrors(over.body.error)).toEqual([
      { errorCode: { offlineUserDataJobError: 'TOO_MANY_USER_IDENTIFIERS' }, message: 'Maximum number of user identifiers allowed per request is 100,000 and per operation is 20.' },
    ]);
    await run(name);
    expect(sandbox!.google.members(LIST)).toHaveLength(100_000);
    expect(sandbox!.google.members(LIST)).not.toContain(sha('a'));
  });

  it('takes removeAll only as the first operation of a job, and applies it before the rest', async () => {
    await start();
    const first = await newJob();
    await addOperations(first, [create({ hashedEmail: sha('old1') }, { hashedPhoneNumber: sha('+1555') }), create({ hashedEmail: sha('old2') })]);
    await run(first);
    sandbox!.google.completeAll();
    const replace = await newJob();
    const late = await addOperations(replace, [create({ hashedEmail: sha('new') }), { removeAll: true }]);
    expect(adsErrors(late.body.partialFailureError)[0]).toMatchObject({ errorCode: { offlineUserDataJobError: 'INVALID_OPERATION_ORDER' }, location: { fieldPathElements: [{ fieldName: 'operations', index: 1 }, { fieldName: 'remove_all' }] } });
    const fresh = await newJob();
    expect(await addOperations(fresh, [{ removeAll: true }, create({ hashedEmail: sha('new') })])).toEqual({ status: 200, body: {} });
    await run(fresh);
    expect([sandbox!.google.members(LIST), sandbox!.google.members(LIST, 'phone')]).toEqual([[sha('new')], []]);
    expect(sandbox!.google.jobs().find((j) => j.resourceName === fresh)).toMatchObject({ removeAll: true, creates: 1 });
  });

  it('runs one job per list at a time: CONCURRENT_MODIFICATION until the running one is done', async () => {
    await start({ google: { processingMs: 60_000 } });
    const [one, two, other] = [await newJob(), await newJob(), await newJob('8888888888')];
    await addOperations(one, [create({ hashedEmail: sha('a') })]);
    await addOperations(two, [create({ hashedEmail: sha('b') })]);
    await addOperations(other, [create({ hashedEmail: sha('c') })]);
    expect((await run(one)).status).toBe(200);
    const conflict = await run(two);
    expect([conflict.status, adsErrors(conflict.body.error)[0]]).toEqual([
      400,
      { errorCode: { databaseError: 'CONCURRENT_MODIFICATION' }, message: 'Multiple requests were attempting to modify the same resource at once. Retry the request.' },
    ]);
    expect((await run(other)).status).toBe(200); // another list is not affected
    expect(sandbox!.google.members(LIST)).toEqual([sha('a')]);
    sandbox!.google.completeAll();
    expect((await run(two)).status).toBe(200);
    expect(sandbox!.google.members(LIST)).toEqual([sha('a'), sha('b')].sort());
    const again = await run(two);
    expect(adsErrors(again.body.error)[0].errorCode).toEqual({ offlineUserDataJobError: 'JOB_ALREADY_STARTED' });
    expect(adsErrors((await addOperations(two, [create({ hashedEmail: sha('d') })])).body.error)[0].errorCode).toEqual({ offlineUserDataJobError: 'JOB_ALREADY_STARTED' });
    expect((await post(`${CID}/offlineUserDataJobs/123:run`, {})).status).toBe(404);
  });

  it('checks the job: Customer Match type, a list of this customer, consent enum words, accepted terms', async () => {
    await start({ google: { userLists: { [CID]: [LIST], '2222222222': ['8888'] }, termsNotAccepted: ['3333333333'] } });
    const ruleBased = sandbox!.google.createUserList({ customerId: CID, type: 'RULE_BASED' });
    const code = (answer: Answer) => Object.values(adsErrors(answer.body.error)[0].errorCode)[0];
    expect(code(await createJob('123'))).toBe('INVALID_USER_LIST_ID');
    expect(code(await createJob('8888'))).toBe('INVALID_USER_LIST_ID');
    expect(code(await createJob(ruleBased))).toBe('INVALID_USER_LIST_TYPE');
    const dmWords = await createJob(LIST, { consent: { adUserData: 'CONSENT_GRANTED' } });
    expect([dmWords.status, dmWords.body.error.message]).toEqual([
      400,
      `Invalid value at 'job.customer_match_user_list_metadata.consent.ad_user_data' (type.googleapis.com/google.ads.googleads.${V}.enums.ConsentStatusEnum.ConsentStatus), "CONSENT_GRANTED"`,
    ]);
    expect((await createJob(LIST, { consent: { adUserData: 'GRANTED', adPersonalization: 'DENIED' } })).status).toBe(200);
    const other = await post(`${CID}/offlineUserDataJobs:create`, { job: { type: 'STORE_SALES_UPLOAD_FIRST_PARTY' } });
    expect(code(other)).toBe('INVALID_JOB_TYPE');
    sandbox!.google.createUserList({ customerId: '3333333333', id: '4444' });
    const terms = await post(`3333333333/offlineUserDataJobs:create`, { job: { type: 'CUSTOMER_MATCH_USER_LIST', customerMatchUserListMetadata: { userList: 'customers/3333333333/userLists/4444' } } });
    expect(code(terms)).toBe('CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS');
  });
});

describe('Google simulator: Google Ads faults', () => {
  it('throttles with quotaErrorDetails.retryDelay and RetryInfo, and aims queued faults at create or run', async () => {
    await start();
    const name = await newJob();
    sandbox!.google.failNext(1, 'throttle', { retryAfterMs: 12_000 });
    const throttled = await addOperations(name, [create({ hashedEmail: sha('a') })]);
    expect([throttled.status, throttled.body.error.status]).toEqual([429, 'RESOURCE_EXHAUSTED']);
    expect(adsErrors(throttled.body.error)[0]).toMatchObject({ errorCode: { quotaError: 'RESOURCE_EXHAUSTED' }, details: { quotaErrorDetails: { retryDelay: '12s' } } });
    expect(throttled.body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' });

    sandbox!.google.failNext(1, 'error', { op: 'run_job' });
    sandbox!.google.failNext(1, 'error', { op: 'create_job' });
    expect((await addOperations(name, [create({ hashedEmail: sha('a') })])).status).toBe(200);
    expect((await createJob()).status).toBe(503);
    expect((await run(name)).status).toBe(503);
    expect((await run(name)).status).toBe(200);
  });
});
