// The Google simulator's Data Manager API and OAuth endpoint, driven with raw fetch: it must enforce
// the published contract (shared/reference/destination-apis.md §2b and Google's discovery document),
// not just accept what our platform sends. The OfflineUserDataJob flow is in google-ads-simulator.test.ts.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');
const CID = '1234567890';
const LIST = '7777777777';
// The Data Manager guide's vectors (destination-apis.md §2b).
const DANA = '07e2f1394b0ea80e2adca010ea8318df697001a005ba7452720edda4b0ce57b3';
const DANAM = '1df6b43bc68dd38eca94e6a65b4f466ae537b796c81a526918b40ac4a7b906c7';
const PHONE = 'fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30';

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

async function call(method: string, path: string, init: { json?: unknown; token?: string | null; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? SANDBOX_TOKEN}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(`${sandbox!.urlFor('google')}${path}`, { method, headers, body });
  return { status: response.status, body: await response.json() };
}

const destination = (list = LIST, customer = CID, extra: Record<string, unknown> = {}) => ({
  operatingAccount: { accountType: 'GOOGLE_ADS', accountId: customer },
  productDestinationId: list,
  ...extra,
});
const member = (...identifiers: Record<string, unknown>[]) => ({ userData: { userIdentifiers: identifiers } });
const ingestBody = (members: unknown[], extra: Record<string, unknown> = {}) => ({
  destinations: [destination()],
  audienceMembers: members,
  encoding: 'HEX',
  termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' },
  ...extra,
});
const ingest = (members: unknown[], extra: Record<string, unknown> = {}, token?: string | null) =>
  call('POST', '/v1/audienceMembers:ingest', { json: ingestBody(members, extra), token });
const remove = (members: unknown[], extra: Record<string, unknown> = {}) =>
  call('POST', '/v1/audienceMembers:remove', { json: { destinations: [destination()], audienceMembers: members, encoding: 'HEX', ...extra } });

const violations = (answer: Answer) => answer.body.error.details.find((d: any) => d['@type'].endsWith('BadRequest'))?.fieldViolations;
const errorInfo = (answer: Answer) => answer.body.error.details?.find((d: any) => d['@type'].endsWith('ErrorInfo'));

async function token(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<Answer> {
  const response = await fetch(`${sandbox!.urlFor('google')}/oauth2/token`, { method: 'POST', headers: { 'content-type': contentType }, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: await response.json() };
}
const grant = (extra: Record<string, string> = {}) => ({ grant_type: 'refresh_token', client_id: 'client-1', client_secret: SANDBOX_TOKEN, refresh_token: SANDBOX_TOKEN, ...extra });

describe('Google simulator: auth', () => {
  it('refuses a missing, unknown or expired bearer token with 401 UNAUTHENTICATED and changes nothing', async () => {
    let now = 1_000_000;
    await start({ google: { now: () => now, tokenLifetimeMs: 60_000 } });
    const missing = await ingest([member({ emailAddress: DANA })], {}, null);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', message: expect.stringContaining('missing required authentication credential') });
    expect(errorInfo(missing).reason).toBe('CREDENTIALS_MISSING');
    const wrong = await ingest([member({ emailAddress: DANA })], {}, 'ya29.not-a-token');
    expect([wrong.status, errorInfo(wrong).reason]).toEqual([401, 'ACCESS_TOKEN_INVALID']);

    const minted = (await token(grant())).body;
    expect(minted).toMatchObject({ token_type: 'Bearer', expires_in: 60, access_token: expect.stringMatching(/^ya29\./) });
    expect((await ingest([member({ emailAddress: DANA })], {}, minted.access_token)).status).toBe(200);
    now += 60_000;
    const expired = await ingest([member({ emailAddress: DANAM })], {}, minted.access_token);
    expect([expired.status, errorInfo(expired).reason]).toEqual([401, 'ACCESS_TOKEN_EXPIRED']);
    expect(sandbox!.google.members(LIST)).toEqual([DANA]);
  });

  it('expires every minted token on demand, while fixed tokens keep working', async () => {
    await start();
    const minted = (await token(grant())).body.access_token;
    expect((await ingest([member({ emailAddress: DANA })], {}, minted)).status).toBe(200);
    sandbox!.google.expireAccessTokens();
    expect((await ingest([member({ emailAddress: DANA })], {}, minted)).status).toBe(401);
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    expect(sandbox!.google.tokensMinted).toBe(1);
  });

  it('exchanges a refresh token only with the right grant, client secret and refresh token', async () => {
    await start({ google: { clientSecret: 'the-client-secret', refreshTokens: ['1//refresh-token'] } });
    const ok = await token(grant({ client_secret: 'the-client-secret', refresh_token: '1//refresh-token' }));
    expect(ok.status).toBe(200);
    expect(ok.body.expires_in).toBe(3600);
    expect(await token(grant({ client_secret: 'the-client-secret', refresh_token: 'revoked' }))).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
    });
    expect(await token(grant({ client_secret: 'another', refresh_token: '1//refresh-token' }))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token(grant({ grant_type: 'authorization_code' }))).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await token(grant({ client_id: '' }))).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect((await token(grant(), 'application/json')).body.error).toBe('invalid_request');
    expect(JSON.stringify(sandbox!.google.requests)).not.toContain('refresh-token');
  });

  it('lets the credentials reach only their customers, and a manager reach its clients through loginAccount', async () => {
    await start({ google: { customers: [CID, '2222222222'], managers: { '2222222222': ['3333333333'] } } });
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    const client = (extra: Record<string, unknown> = {}) => ingest([member({ emailAddress: DANA })], { destinations: [destination('5555', '3333333333', extra)] });
    const denied = await client();
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ status: 'PERMISSION_DENIED', message: 'The caller does not have permission' });
    expect((await client({ loginAccount: { accountType: 'GOOGLE_ADS', accountId: '2222222222' } })).status).toBe(200);
    expect((await client({ loginAccount: { accountType: 'GOOGLE_ADS', accountId: CID } })).status).toBe(403);
  });
});

describe('Google simulator: Data Manager ingest and remove', () => {
  it('adds and removes identifiers per type, answering a request id', async () => {
    await start();
    const address = { givenName: sha('dana'), familyName: sha('doe'), regionCode: 'US', postalCode: '94045' };
    const added = await ingest([member({ emailAddress: DANA }, { phoneNumber: PHONE }, { address }), member({ emailAddress: DANAM })]);
    expect(added).toEqual({ status: 200, body: { requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    expect(sandbox!.google.members(LIST, 'email')).toEqual([DANA, DANAM].sort());
    expect(sandbox!.google.members(LIST, 'phone')).toEqual([PHONE]);
    expect(sandbox!.google.members(LIST, 'address')).toEqual([`${sha('dana')}|${sha('doe')}|US|94045`]);
    expect((await remove([member({ emailAddress: DANA }, { phoneNumber: PHONE })])).status).toBe(200);
    expect(sandbox!.google.members(LIST, 'email')).toEqual([DANAM]);
    expect(sandbox!.google.members(LIST, 'phone')).toEqual([]);
    expect(sandbox!.google.requests.map((r) => [r.op, r.members, r.identifiers, r.status])).toEqual([
      ['ingest', 2, 4, 200],
      ['remove', 1, 2, 200],
    ]);
  });

  it('takes exactly the discovery document field names: unknown names are refused before any value', async () => {
    await start();
    const wrapped = await ingest([{ userData: { compositeData: { userIdentifiers: [{ emailAddress: DANA }] } } }]);
    expect(wrapped.status).toBe(400);
    expect(wrapped.body.error.message).toBe(`Invalid JSON payload received. Unknown name "compositeData" at 'audience_members[0].user_data': Cannot find field.`);
    const addressInfo = await ingest([member({ addressInfo: { givenName: sha('a') } })]);
    expect(addressInfo.body.error.message).toContain('Unknown name "addressInfo"');
    // RemoveAudienceMembersRequest has no consent and no termsOfService.
    expect((await remove([member({ emailAddress: DANA })], { consent: { adUserData: 'CONSENT_GRANTED' } })).body.error.message).toContain('Unknown name "consent"');
    expect((await remove([member({ emailAddress: DANA })], { termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' } })).body.error.message).toContain(
      'Unknown name "termsOfService"',
    );
    expect((await ingest([member({ emailAddress: DANA })], { destinations: [{ ...destination(), operatingAccount: { accountType: 'GOOGLE_ADS', account_id: CID } }] })).status).toBe(400);
    expect(sandbox!.google.userLists()).toEqual([]);
  });

  it('enforces 10,000 members, 10 identifiers per member, 10 destinations and one identifier per UserIdentifier', async () => {
    await start();
    const many = Array.from({ length: 10_001 }, (_, i) => member({ emailAddress: sha(`m${i}`) }));
    const tooMany = await ingest(many);
    expect([tooMany.status, violations(tooMany)]).toEqual([400, [{ field: 'audience_members', reason: 'TOO_MANY_AUDIENCE_MEMBERS', description: expect.stringContaining('10000') }]]);
    expect((await ingest(many.slice(0, 10_000))).status).toBe(200);

    const eleven = Array.from({ length: 11 }, (_, i) => ({ emailAddress: sha(`e${i}`) }));
    const wide = await ingest([member({ emailAddress: DANA }), member(...eleven)]);
    expect(violations(wide)).toEqual([{ field: 'audience_members[1].user_data.user_identifiers', reason: 'TOO_MANY_USER_IDENTIFIERS', description: expect.any(String) }]);
    expect((await ingest([member(...eleven.slice(0, 10))])).status).toBe(200);

    const both = await ingest([member({ emailAddress: DANA, phoneNumber: PHONE })]);
    expect(violations(both)[0]).toMatchObject({ field: 'audience_members[0].user_data.user_identifiers[0]', reason: 'INVALID_ARGUMENT' });
    const destinations = Array.from({ length: 11 }, (_, i) => destination(String(100 + i)));
    expect(violations(await ingest([member({ emailAddress: DANA })], { destinations }))[0].reason).toBe('TOO_MANY_DESTINATIONS');
    expect(sandbox!.google.members(LIST)).not.toContain(sha('e10'));
  });

  it('requires an encoding and hashes as lowercase 64-hex, naming each bad member and ingesting none of the request', async () => {
    await start();
    const missing = await call('POST', '/v1/audienceMembers:ingest', { json: { ...ingestBody([member({ emailAddress: DANA })]), encoding: undefined } });
    expect(violations(missing)).toEqual([{ field: 'encoding', reason: 'REQUIRED_FIELD_MISSING', description: expect.any(String) }]);
    const answer = await ingest([
      member({ emailAddress: DANA }),
      member({ emailAddress: DANAM.toUpperCase() }),
      member({ phoneNumber: '+18005550100' }),
      member({ emailAddress: DANA.slice(0, 62) }),
    ]);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: 'There was a problem with the request.' });
    expect(errorInfo(answer)).toEqual({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_ARGUMENT', domain: 'datamanager.googleapis.com' });
    expect(violations(answer).map((v: any) => [v.field, v.reason])).toEqual([
      ['audience_members[1].user_data.user_identifiers[0].email_address', 'INVALID_HEX_ENCODING'],
      ['audience_members[2].user_data.user_identifiers[0].phone_number', 'INVALID_HEX_ENCODING'],
      ['audience_members[3].user_data.user_identifiers[0].email_address', 'INVALID_SHA256_FORMAT'],
    ]);
    expect(JSON.stringify(answer.body)).not.toContain(DANAM.toUpperCase());
    expect(sandbox!.google.members(LIST)).toEqual([]); // fast-fail: the good member was not ingested either
  });

  it('takes BASE64 when the request says so, storing the same hash', async () => {
    await start();
    const base64 = Buffer.from(DANA, 'hex').toString('base64');
    expect((await ingest([member({ emailAddress: base64 })], { encoding: 'BASE64' })).status).toBe(200);
    expect(sandbox!.google.members(LIST)).toEqual([DANA]);
    expect(violations(await ingest([member({ emailAddress: DANA })], { encoding: 'BASE64' }))[0].reason).toBe('INVALID_SHA256_FORMAT');
  });

  it('wants all four address parts, names hashed, region and postal code in plain text', async () => {
    await start();
    const full = { givenName: sha('dana'), familyName: sha('doe'), regionCode: 'US', postalCode: '94045' };
    const answer = await ingest([
      member({ address: { ...full, postalCode: undefined } }),
      member({ address: { ...full, postalCode: sha('94045') } }),
      member({ address: { ...full, regionCode: 'us' } }),
      member({ address: { ...full, givenName: 'dana' } }),
    ]);
    expect(violations(answer).map((v: any) => [v.field, v.reason])).toEqual([
      ['audience_members[0].user_data.user_identifiers[0].address', 'REQUIRED_FIELD_MISSING'],
      ['audience_members[1].user_data.user_identifiers[0].address.postal_code', 'INVALID_POSTAL_CODE'],
      ['audience_members[2].user_data.user_identifiers[0].address.region_code', 'INVALID_FORMAT'],
      ['audience_members[3].user_data.user_identifiers[0].address.given_name', 'INVALID_HEX_ENCODING'],
    ]);
    expect(sandbox!.google.members(LIST, 'address')).toEqual([]);
  });

  it('requires accepted Customer Match terms on ingest only, and refuses accounts that did not accept them', async () => {
    await start({ google: { termsNotAccepted: ['2222222222'] } });
    const none = await ingest([member({ emailAddress: DANA })], { termsOfService: undefined });
    expect(violations(none)[0]).toMatchObject({ field: 'terms_of_service', reason: 'REQUIRED_FIELD_MISSING' });
    const rejected = await ingest([member({ emailAddress: DANA })], { termsOfService: { customerMatchTermsOfServiceStatus: 'REJECTED' } });
    expect([rejected.status, errorInfo(rejected).reason, violations(rejected)[0].reason]).toEqual([400, 'TERMS_AND_CONDITIONS_NOT_SIGNED', 'TERMS_AND_CONDITIONS_NOT_SIGNED']);
    expect((await remove([member({ emailAddress: DANA })])).status).toBe(200);
    const account = await ingest([member({ emailAddress: DANA })], { destinations: [destination('5555', '2222222222')] });
    expect(errorInfo(account).reason).toBe('TERMS_AND_CONDITIONS_NOT_SIGNED');
    expect(sandbox!.google.members(LIST)).toEqual([]);
  });

  it('takes the Consent enum values, at request and member level', async () => {
    await start();
    const consent = { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' };
    expect((await ingest([{ ...member({ emailAddress: DANA }), consent }], { consent })).status).toBe(200);
    const adsWords = await ingest([member({ emailAddress: DANA })], { consent: { adUserData: 'GRANTED' } });
    expect(adsWords.status).toBe(400);
    expect(adsWords.body.error.message).toBe(`Invalid value at 'consent.ad_user_data' (type.googleapis.com/google.ads.datamanager.v1.ConsentStatus), "GRANTED"`);
    const perMember = await ingest([member({ emailAddress: DANA }), { ...member({ emailAddress: DANAM }), consent: { adPersonalization: 'YES' } }]);
    expect(violations(perMember)).toEqual([{ field: 'audience_members[1].consent.ad_personalization', description: expect.stringContaining('Invalid value') }]);
  });

  it('creates unknown lists on first use by default; with declared lists, refuses unknown, foreign and non-CRM lists', async () => {
    await start();
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    expect(sandbox!.google.userLists()).toEqual([{ id: LIST, customerId: CID, name: `Customer list ${LIST}`, type: 'CRM_BASED' }]);
    await sandbox!.close();

    await start({ google: { userLists: { [CID]: [LIST], '2222222222': ['8888'] } } });
    const ruleBased = sandbox!.google.createUserList({ customerId: CID, type: 'RULE_BASED' });
    const unknown = await ingest([member({ emailAddress: DANA })], { destinations: [destination('123')] });
    expect([unknown.status, errorInfo(unknown).reason, violations(unknown)[0].field]).toEqual([400, 'INVALID_USER_LIST_ID', 'destinations[0].product_destination_id']);
    expect(errorInfo(await ingest([member({ emailAddress: DANA })], { destinations: [destination('8888')] })).reason).toBe('INVALID_USER_LIST_ID');
    expect(errorInfo(await ingest([member({ emailAddress: DANA })], { destinations: [destination(ruleBased)] })).reason).toBe('INVALID_USER_LIST_TYPE');
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
  });

  it('validates without changing anything when validateOnly is set', async () => {
    await start();
    expect(await ingest([member({ emailAddress: DANA })], { validateOnly: true })).toEqual({ status: 200, body: {} });
    expect((await ingest([member({ emailAddress: 'x' })], { validateOnly: true })).status).toBe(400);
    expect(sandbox!.google.userLists()[0] && sandbox!.google.members(LIST)).toEqual([]);
  });
});

describe('Google simulator: removeAll and async status', () => {
  it('reports a request PROCESSING until the delay passes, then SUCCESS with counts and a match range', async () => {
    let now = 5_000_000;
    await start({ google: { now: () => now, processingMs: 30_000, matchRatePercent: 45 } });
    const id = (await ingest([member({ emailAddress: DANA }, { phoneNumber: PHONE }), member({ emailAddress: DANAM })])).body.requestId;
    const status = () => call('GET', `/v1/requestStatus:retrieve?requestId=${id}`);
    const processing = await status();
    expect(processing.body.requestStatusPerDestination).toEqual([
      {
        destination: destination(),
        requestStatus: 'PROCESSING',
        audienceMembersIngestionStatus: { userDataIngestionStatus: { recordCount: '2', userIdentifierCount: '3', uploadMatchRateRange: 'MATCH_RATE_RANGE_UNKNOWN' } },
      },
    ]);
    now += 30_000;
    const done = (await status()).body.requestStatusPerDestination[0];
    expect(done.requestStatus).toBe('SUCCESS');
    expect(done.audienceMembersIngestionStatus.userDataIngestionStatus.uploadMatchRateRange).toBe('MATCH_RATE_RANGE_41_TO_50');

    const removal = (await remove([member({ emailAddress: DANA })])).body.requestId;
    expect(sandbox!.google.requestStatus(removal)).toBe('PROCESSING');
    sandbox!.google.completeAll();
    const removed = (await call('GET', `/v1/requestStatus:retrieve?requestId=${removal}`)).body.requestStatusPerDestination[0];
    expect(removed).toMatchObject({ requestStatus: 'SUCCESS', audienceMembersRemovalStatus: { userDataRemovalStatus: { recordCount: '1', userIdentifierCount: '1' } } });
    expect((await call('GET', '/v1/requestStatus:retrieve?requestId=nope')).status).toBe(404);
    expect((await call('GET', `/v1/requestStatus:retrieve?requestId=${id}`, { token: null })).status).toBe(401);
  });

  it('removes every member added before removeAsOfTime (default: now), keeping later ones', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z');
    await start({ google: { now: () => now } });
    await ingest([member({ emailAddress: DANA })]);
    now += 60_000;
    await ingest([member({ emailAddress: DANAM }, { phoneNumber: PHONE })]);
    const removeAll = (body: Record<string, unknown>) => call('POST', '/v1/audienceMembers:removeAll', { json: { destinations: [destination()], ...body } });
    expect((await removeAll({ removeAsOfTime: '2026-06-01T00:00:30Z' })).body.requestId).toEqual(expect.any(String));
    expect(sandbox!.google.members(LIST)).toEqual([DANAM]);
    expect(violations(await removeAll({ removeAsOfTime: '2027-01-01T00:00:00Z' }))[0].field).toBe('remove_as_of_time');
    expect((await removeAll({ audienceMembers: [] })).body.error.message).toContain('Unknown name "audienceMembers"');
    await removeAll({});
    expect([sandbox!.google.members(LIST, 'email'), sandbox!.google.members(LIST, 'phone')]).toEqual([[], []]);
    now += 1;
    await ingest([member({ emailAddress: DANA })]);
    expect(sandbox!.google.members(LIST)).toEqual([DANA]);
  });
});

describe('Google simulator: faults, quota and server', () => {
  it('throttles with 429 RESOURCE_EXHAUSTED and RetryInfo.retryDelay, fails with 503 UNAVAILABLE, aimed by op', async () => {
    await start();
    sandbox!.google.failNext(1, 'throttle', { retryAfterMs: 1500 });
    const throttled = await ingest([member({ emailAddress: DANA })]);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(throttled.body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' });
    expect(errorInfo(throttled).metadata).toEqual({ quota_limit: 'IngestRequestsPerMinutePerProject' });

    sandbox!.google.failNext(1, 'error', { op: 'remove' });
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    const unavailable = await remove([member({ emailAddress: DANA })]);
    expect(unavailable).toEqual({ status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } });
    expect(sandbox!.google.members(LIST)).toEqual([DANA]);

    sandbox!.google.failNext(1, 'invalid_payload', { skip: 1 });
    expect((await ingest([member({ emailAddress: DANAM })])).status).toBe(200);
    const refused = await ingest([member({ emailAddress: DANAM })]);
    expect([refused.status, refused.body.error.details]).toEqual([400, undefined]);
    expect(sandbox!.google.requests.map((r) => r.fault).filter(Boolean)).toEqual(['throttle', 'error', 'invalid_payload']);
  });

  it('resets connections and holds requests, and adds latency', async () => {
    await start({ google: { faults: { timeoutMs: 200, latencyMs: 50 } } });
    sandbox!.google.failNext(1, 'reset');
    await expect(ingest([member({ emailAddress: DANA })])).rejects.toThrow();
    sandbox!.google.failNext(1, 'timeout');
    const started = Date.now();
    await expect(ingest([member({ emailAddress: DANA })])).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    const slow = Date.now();
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    expect(Date.now() - slow).toBeGreaterThanOrEqual(45);
    expect(sandbox!.google.requests.map((r) => r.status)).toEqual([0, 0, 200]);
  });

  it('applies random faults from a seed to bulk calls only, and the project quota with the wait in retryDelay', async () => {
    await start({ google: { faults: { errorRate: 1 } } });
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(503);
    expect((await call('POST', '/v1/audienceMembers:removeAll', { json: { destinations: [destination()] } })).status).toBe(200);
    expect((await token(grant())).status).toBe(200);
    await sandbox!.close();

    let now = 0;
    await start({ google: { now: () => now, rateLimit: { requests: 2, windowMs: 10_000 } } });
    expect((await ingest([member({ emailAddress: DANA })])).status).toBe(200);
    now = 4_000;
    expect((await remove([member({ emailAddress: DANA })])).status).toBe(200);
    const over = await ingest([member({ emailAddress: DANAM })]);
    expect(over.status).toBe(429);
    expect(over.body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '6s' });
    now = 10_000;
    expect((await ingest([member({ emailAddress: DANAM })])).status).toBe(200);
  });

  it('keeps lists, members and request statuses across a restart with a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audsync-google-'));
    try {
      const stateFile = join(dir, 'sandbox.json');
      await start({ stateFile, google: { processingMs: 0 } });
      const id = (await ingest([member({ emailAddress: DANA }, { phoneNumber: PHONE })])).body.requestId;
      const declared = sandbox!.google.createUserList({ customerId: CID, name: 'Buyers' });
      await sandbox!.close();
      await start({ stateFile });
      expect(sandbox!.google.members(LIST, 'phone')).toEqual([PHONE]);
      expect(sandbox!.google.userLists().map((l) => l.id)).toEqual([LIST, declared]);
      expect(sandbox!.google.requestStatus(id)).toBe('SUCCESS');
      expect(sandbox!.google.createUserList({ customerId: CID })).not.toBe(declared);
    } finally {
      await sandbox?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is listed at the root, answers unknown paths and oversized bodies in the RPC envelope, and logs no token', async () => {
    await start({ maxBodyBytes: 1024 });
    const root = (await (await fetch(sandbox!.url)).json()) as any;
    expect(root.simulators.google).toBe(sandbox!.urlFor('google'));
    expect(sandbox!.urlFor('google')).toBe(`${sandbox!.url}/google`);
    const unknown = await call('GET', '/v1/whatever');
    expect([unknown.status, unknown.body.error.status]).toEqual([404, 'NOT_FOUND']);
    const big = await call('POST', '/v1/audienceMembers:ingest', { body: 'x'.repeat(4096), headers: { 'content-type': 'application/json' } });
    expect([big.status, big.body.error.code]).toEqual([413, 413]);
    const notJson = await call('POST', '/v1/audienceMembers:ingest', { body: '{"destinations": [', headers: { 'content-type': 'application/json' } });
    expect([notJson.status, notJson.body.error.status]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(JSON.stringify(sandbox!.google.requests)).not.toContain(SANDBOX_TOKEN);
  });
});
