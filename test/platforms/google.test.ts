// The Google platform against the Google simulator over real loopback HTTP, for both APIs: the
// Data Manager API (default) and the Google Ads API OfflineUserDataJob flow.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FatalError, RetriableError } from '../../src/core/errors.js';
import type { HashedRow } from '../../src/core/identifiers.js';
import { silentLogger } from '../../src/core/log.js';
import { dataManagerCapabilities, googleAdsCapabilities } from '../../src/platforms/google/capabilities.js';
import { configSpec, googleConfigSchema } from '../../src/platforms/google/config.js';
import { definition, tokenUrl, type DataManagerPlatform, type GoogleAdsPlatform, type GoogleBatch } from '../../src/platforms/google/index.js';
import { sendRequest } from '../../src/platforms/http/request.js';
import { loadPlatform, plannedPlatformTypes, platformTypes } from '../../src/platforms/registry.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { sandboxPathFor } from '../../src/sandbox/index.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import { normalizerNames } from '../../src/warehouse/sql/normalize.js';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');
const CID = '1234567890';
const LIST = '7777777777';

// What the warehouse sends for Google (email_google, phone_e164, name_google, postal_code,
// country_upper): the Data Manager guide's documented hashes (destination-apis.md §2b).
const EMAILS = {
  dana: '07e2f1394b0ea80e2adca010ea8318df697001a005ba7452720edda4b0ce57b3', // dana@example.com
  danam: '1df6b43bc68dd38eca94e6a65b4f466ae537b796c81a526918b40ac4a7b906c7', // DanaM@example.com
  alexf: '19de0a9906ebee29fe82087be5ec44f3c01e40730bc808b663c71f19dd6b12f2', // ALEXF@example.com
  quinn: '05bb62526f091b45d20e243d194766cca8869137421047dc53fa4876d111a6f0', // quinn@CYMBALGROUP.com
  cloudy: '223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4', // cloudySanFrancisco@GMAIL.com
};
const PHONES = {
  p100: 'fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30', // +1-800-555-0100
  p101: '61d6c2976b5d92b1ad63073a12fddd26040cd980067d03a93dd1cc50f1a3ac68', // +1 800-555-0101
  p110: '525c2390a4e2a9766fa8ddc341dd10414603baebefa401f5a5e29f55e176525d', // +18005550110
};
const ADDRESS: HashedRow = { first_name: sha('dana'), last_name: sha('doe'), country: 'US', zip: '94045' };
const KINDS: GoogleBatch['kinds'] = ['email', 'phone', 'first_name', 'last_name', 'country', 'zip'];

let sandbox: Sandbox | undefined;
let servers: Server[] = [];
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  servers = [];
});

async function setup(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox(options);
  return sandbox;
}

function dataManager(config: Record<string, unknown> = {}): DataManagerPlatform {
  const parsed = googleConfigSchema.parse({ customer_id: CID, access_token: SANDBOX_TOKEN, api_base_url: sandbox!.urlFor('google'), timeout_ms: 5000, ...config });
  // Requests go straight out, without the runner's per-account rate limit (test/e2e covers that).
  return definition.create(parsed, { logger: silentLogger, http: sendRequest }) as DataManagerPlatform;
}

function googleAds(config: Record<string, unknown> = {}): GoogleAdsPlatform {
  return dataManager({ api: 'google_ads', developer_token: SANDBOX_TOKEN, ...config }) as unknown as GoogleAdsPlatform;
}

const batch = (op: GoogleBatch['op'], rows: HashedRow[], extra: Partial<GoogleBatch> = {}): GoogleBatch => ({ audienceId: LIST, op, kinds: KINDS, rows, ...extra });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** A stand-in Google that records bodies and headers and answers with `reply`. */
async function recorder(reply: (path: string, body: any) => { status: number; body: unknown }): Promise<{ url: string; calls: { path: string; headers: any; body: any }[] }> {
  const calls: { path: string; headers: any; body: any }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      calls.push({ path: req.url ?? '', headers: req.headers, body });
      const answer = reply(req.url ?? '', body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

describe('Google platform: config, capabilities, registry', () => {
  it('validates the destination: customer ids without hyphens, one way to authenticate, developer token only for google_ads', () => {
    const base = { customer_id: '123-456-7890', access_token: 'token' };
    expect(googleConfigSchema.parse(base)).toMatchObject({ api: 'data_manager', customer_id: CID, terms_of_service_accepted: true, timeout_ms: 60_000, send_addresses: false });
    expect(googleConfigSchema.parse({ ...base, customer_id: 1234567890, login_customer_id: '987-654-3210' }).login_customer_id).toBe('9876543210');
    const problems = (config: Record<string, unknown>) => googleConfigSchema.safeParse(config).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(problems({ customer_id: '12345' })[0]).toMatch(/^customer_id: a Google Ads customer id/);
    expect(problems({ customer_id: CID })).toEqual([expect.stringMatching(/^access_token: set access_token/)]);
    expect(problems({ ...base, oauth: { client_id: 'c', client_secret: 's', refresh_token: 'r' } })).toEqual(['oauth: set access_token or oauth, not both']);
    expect(problems({ ...base, api: 'google_ads' })).toEqual([expect.stringMatching(/^developer_token: api: google_ads needs developer_token/)]);
    expect(problems({ ...base, developer_token: 'd' })).toEqual([expect.stringMatching(/^developer_token: the Data Manager API takes no developer token/)]);
    expect(problems({ customer_id: CID, oauth: { client_id: 'c', client_secret: 's', refresh_token: 'r', token_url: 'http://127.0.0.1/t' }, oauth_token_url: 'http://127.0.0.1/u' })).toEqual([
      'oauth_token_url: set oauth.token_url or oauth_token_url, not both',
    ]);
    expect(problems({ ...base, consent: { ad_user_data: 'CONSENT_GRANTED' } })).toHaveLength(1);
    expect(problems({ ...base, audience: 'x' })).toHaveLength(1);
    expect(configSpec.secretFields).toEqual(['access_token', 'oauth.client_secret', 'oauth.refresh_token', 'developer_token']);
  });

  it('declares Google identifiers with our Google rules, and limits from the published contracts', () => {
    for (const caps of [dataManagerCapabilities, googleAdsCapabilities]) {
      expect(caps.identifiers).toEqual({
        email: { role: 'match', normalizer: 'email_google', encoding: 'sha256' },
        phone: { role: 'match', normalizer: 'phone_e164', encoding: 'sha256' },
        first_name: { role: 'attribute', normalizer: 'name_google', encoding: 'sha256' },
        last_name: { role: 'attribute', normalizer: 'name_google', encoding: 'sha256' },
        zip: { role: 'attribute', normalizer: 'postal_code', encoding: 'plain' },
        country: { role: 'attribute', normalizer: 'country_upper', encoding: 'plain' },
      });
      for (const rule of Object.values(caps.identifiers)) expect(normalizerNames()).toContain(rule!.normalizer);
      expect([caps.replace, caps.minAudienceSize, caps.defaultRequestsPerSecond]).toEqual(['remove-all', 100, 5]);
    }
    expect(dataManagerCapabilities.maxRowsPerRequest).toBe(10_000);
    expect(googleAdsCapabilities.maxRowsPerRequest * 3).toBeLessThanOrEqual(10_000);
  });

  it('is registered lazily, and its sandbox lives under /google', async () => {
    expect(platformTypes()).toContain('google_customer_match');
    expect(plannedPlatformTypes).not.toContain('google_customer_match');
    expect((await loadPlatform('google_customer_match')).type).toBe('google_customer_match');
    expect(sandboxPathFor('google_customer_match')).toBe('/google');
  });

  it('sends the token exchange where the API goes, and never off loopback for a local api_base_url', () => {
    const oauth = { client_id: 'c', client_secret: 's', refresh_token: 'r' };
    const config = (extra: Record<string, unknown>) => googleConfigSchema.parse({ customer_id: CID, oauth, ...extra });
    expect(tokenUrl(config({}))).toBe('https://oauth2.googleapis.com/token');
    expect(tokenUrl(config({ api_base_url: 'http://127.0.0.1:9401/google' }))).toBe('http://127.0.0.1:9401/google/oauth2/token');
    expect(tokenUrl(config({ api_base_url: 'http://127.0.0.1:9401', oauth_token_url: 'http://127.0.0.1:9402/token' }))).toBe('http://127.0.0.1:9402/token');
    expect(() => tokenUrl(config({ api_base_url: 'http://127.0.0.1:9401', oauth_token_url: 'https://oauth2.googleapis.com/token' }))).toThrow(/local address/);
    expect(() => tokenUrl(config({ oauth_token_url: 'http://oauth.example.com/token' }))).toThrow(/loopback/);
  });
});

describe('Google platform (Data Manager): resolveAudience and send', () => {
  it('takes a numeric user list id and refuses a name, saying where to find the id', async () => {
    await setup();
    const google = dataManager();
    expect(await google.resolveAudience({ id: LIST }, { create: true })).toBe(LIST);
    const byName = await failure(google.resolveAudience({ name: 'Buyers' }, { create: true }));
    expect(byName).toBeInstanceOf(FatalError);
    expect(byName.message).toContain('needs the user list id');
    expect((byName as FatalError).hint).toContain('audience: { id:');
    expect(await failure(google.resolveAudience({ id: 'abc' }, { create: false }))).toBeInstanceOf(FatalError);
    expect(sandbox!.google.requests).toEqual([]);
  });

  it('adds and removes exactly the identifiers sent, as our Google rules normalize them', async () => {
    await setup();
    const google = dataManager();
    const rows: HashedRow[] = [
      { email: EMAILS.dana, phone: PHONES.p100, ...ADDRESS },
      { email: EMAILS.danam },
      { email: EMAILS.alexf, phone: PHONES.p101 },
      { email: EMAILS.quinn },
      { email: EMAILS.cloudy, phone: PHONES.p110 },
    ];
    expect(await google.send(batch('add', rows))).toEqual({ accepted: 5, rejected: [] });
    expect(await google.send(batch('remove', [{ email: EMAILS.danam }, { email: EMAILS.alexf, phone: PHONES.p101 }]))).toEqual({ accepted: 2, rejected: [] });
    expect(sandbox!.google.members(LIST, 'email')).toEqual([EMAILS.dana, EMAILS.quinn, EMAILS.cloudy].sort());
    expect(sandbox!.google.members(LIST, 'phone')).toEqual([PHONES.p100, PHONES.p110].sort());
    expect(sandbox!.google.members(LIST, 'address')).toEqual([`${sha('dana')}|${sha('doe')}|US|94045`]);
    expect(sandbox!.google.requests.map((r) => [r.op, r.members, r.identifiers])).toEqual([
      ['ingest', 5, 9],
      ['remove', 2, 3],
    ]);
  });

  it('sends an address only when first name, last name, country and zip are all there', async () => {
    await setup();
    const google = dataManager();
    const partial = [{ email: sha('a@x.com'), first_name: sha('a'), last_name: sha('b'), country: 'US' }, { phone: PHONES.p100, first_name: sha('a'), zip: '94045' }];
    expect(await google.send(batch('add', [...partial, { email: sha('b@x.com'), ...ADDRESS }]))).toEqual({ accepted: 3, rejected: [] });
    expect(sandbox!.google.members(LIST, 'address')).toEqual([`${sha('dana')}|${sha('doe')}|US|94045`]);
    expect(sandbox!.google.requests[0]!.identifiers).toBe(4);
    const nothing = await google.send(batch('add', [{ first_name: sha('a'), last_name: sha('b'), country: 'US' }, { email: EMAILS.dana }]));
    expect(nothing.rejected).toEqual([{ index: 0, code: 'NO_IDENTIFIER', reason: expect.stringContaining('no identifier Google matches on') }]);
  });

  it('builds the request per the discovery document: destination, HEX, terms and consent on ingest only, consent per member', async () => {
    const google = await recorder(() => ({ status: 200, body: { requestId: 'r-1' } }));
    sandbox = await startSandbox();
    const platform = dataManager({ api_base_url: google.url, login_customer_id: '9876543210', consent: { ad_user_data: 'GRANTED', ad_personalization: 'DENIED' } });
    await platform.send(batch('add', [{ email: EMAILS.dana }, { phone: PHONES.p100 }], { consent: [undefined, { ad_personalization: 'GRANTED' }] }));
    await platform.send(batch('remove', [{ email: EMAILS.dana }], { consent: [{ ad_user_data: 'DENIED' }] }));
    const [ingest, remove] = google.calls;
    expect(ingest!.path).toBe('/v1/audienceMembers:ingest');
    expect(ingest!.headers.authorization).toBe(`Bearer ${SANDBOX_TOKEN}`);
    expect(ingest!.headers['developer-token']).toBeUndefined();
    expect(ingest!.body).toEqual({
      destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: CID }, loginAccount: { accountType: 'GOOGLE_ADS', accountId: '9876543210' }, productDestinationId: LIST }],
      audienceMembers: [
        { userData: { userIdentifiers: [{ emailAddress: EMAILS.dana }] } },
        { userData: { userIdentifiers: [{ phoneNumber: PHONES.p100 }] }, consent: { adPersonalization: 'CONSENT_GRANTED' } },
      ],
      encoding: 'HEX',
      termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' },
      consent: { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' },
    });
    expect(remove!.path).toBe('/v1/audienceMembers:remove');
    expect(Object.keys(remove!.body).sort()).toEqual(['audienceMembers', 'destinations', 'encoding']);
    expect(remove!.body.audienceMembers).toEqual([{ userData: { userIdentifiers: [{ emailAddress: EMAILS.dana }] } }]);
  });

  it('rejects the members Google names and sends the rest again, since Google ingests nothing of a refused request', async () => {
    await setup();
    const google = dataManager();
    const rows = [{ email: EMAILS.dana }, { email: EMAILS.danam.toUpperCase() }, { email: EMAILS.alexf }, { email: 'not-hex', phone: PHONES.p100 }];
    const result = await google.send(batch('add', rows));
    expect(result).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, code: 'INVALID_HEX_ENCODING', reason: 'INVALID_HEX_ENCODING: Email must be lowercase hex.' },
        { index: 3, code: 'INVALID_HEX_ENCODING', reason: 'INVALID_HEX_ENCODING: Email is not hex encoded.' },
      ],
    });
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.alexf].sort());
    expect(sandbox!.google.members(LIST, 'phone')).toEqual([]);
    expect(sandbox!.google.requests.map((r) => [r.members, r.status])).toEqual([
      [4, 400],
      [2, 200],
    ]);
    expect(JSON.stringify(result)).not.toContain(EMAILS.danam.toUpperCase());
  });

  it('rejects every row, for the runtime to split, when Google refuses without naming members', async () => {
    await setup();
    const google = dataManager();
    sandbox!.google.failNext(1, 'invalid_payload');
    const result = await google.send(batch('add', [{ email: EMAILS.dana }, { email: EMAILS.danam }]));
    expect(result).toEqual({ accepted: 0, wholeBatch: true, rejected: [0, 1].map((index) => ({ index, code: 'INVALID_ARGUMENT', reason: 'Request contains an invalid argument.' })) });
    expect(sandbox!.google.userLists()).toEqual([]);
  });

  it('reports the request ids of each op at finish, and their status and match range when asked later', async () => {
    await setup({ google: { processingMs: 60_000, matchRatePercent: 65 } });
    const google = dataManager();
    await google.send(batch('add', [{ email: EMAILS.dana, phone: PHONES.p100 }]));
    await google.send(batch('add', [{ email: EMAILS.danam }]));
    await google.send(batch('remove', [{ email: EMAILS.quinn }]));
    const added = (await google.finish(LIST, 'add'))!;
    const ids = sandbox!.google.requests.filter((r) => r.op === 'ingest').length;
    expect(added).toEqual({
      kind: 'google_request',
      reference: expect.any(String),
      status: 'PROCESSING',
      details: { api: 'data_manager', op: 'add', customer_id: CID, user_list_id: LIST, request_ids: [added.reference, expect.any(String)], members: 2 },
    });
    expect(ids).toBe(2);
    expect(await google.finish(LIST, 'add')).toBeUndefined(); // reported once
    expect((await google.refreshReport(added)).status).toBe('PROCESSING');
    sandbox!.google.completeAll();
    const refreshed = await google.refreshReport(added);
    expect(refreshed).toMatchObject({ status: 'SUCCESS', details: { record_count: 2, user_identifier_count: 3 } });
    expect(refreshed.details.requests).toEqual([
      expect.objectContaining({ status: 'SUCCESS', destinations: [expect.objectContaining({ match_rate_range: 'MATCH_RATE_RANGE_61_TO_70', record_count: 1 })] }),
      expect.objectContaining({ status: 'SUCCESS' }),
    ]);
    const removed = (await google.finish(LIST, 'remove'))!;
    expect(await google.retrieveStatus(removed.reference)).toEqual({
      kind: 'google_request',
      reference: removed.reference,
      status: 'SUCCESS',
      details: { destinations: [{ user_list_id: LIST, status: 'SUCCESS', record_count: 1, user_identifier_count: 1 }] },
    });
    const unknown = await failure(google.retrieveStatus('no-such-request'));
    expect([unknown instanceof FatalError, unknown.message]).toEqual([true, 'the Data Manager API does not know request no-such-request (request ids are kept for a limited time)']);
  });

  it("refuses 'replace' batches: a Google full refresh is removeAll, then adds", async () => {
    await setup();
    await expect(dataManager().send(batch('replace', [{ email: EMAILS.dana }]))).rejects.toThrow(/no 'replace' batches/);
    await expect(googleAds().send(batch('replace', [{ email: EMAILS.dana }]))).rejects.toThrow(/no 'replace' batches/);
    expect(sandbox!.google.requests).toEqual([]);
  });

  it('removes all members for a full refresh, keeping those ingested afterwards', async () => {
    await setup();
    const google = dataManager();
    await google.send(batch('add', [{ email: EMAILS.dana, phone: PHONES.p100 }, { email: EMAILS.danam }]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const report = await google.removeAll(LIST);
    expect(report).toMatchObject({ kind: 'google_request', status: 'PROCESSING', details: { op: 'remove_all', request_ids: [report.reference] } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await google.send(batch('add', [{ email: EMAILS.quinn }]));
    expect([sandbox!.google.members(LIST), sandbox!.google.members(LIST, 'phone')]).toEqual([[EMAILS.quinn], []]);
  });
});

describe('Google platform (Data Manager): errors', () => {
  it('maps 401 to FatalError without refreshing a fixed token, and never echoes it', async () => {
    await setup();
    const token = 'ya29.a-fixed-token-from-the-environment';
    const error = await failure(dataManager({ access_token: token }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toMatch(/^the Data Manager API refused the OAuth credentials for customer 1234567890: Request had invalid authentication/);
    expect((error as FatalError).hint).toContain('https://www.googleapis.com/auth/datamanager');
    expect(`${error.message} ${(error as FatalError).hint}`).not.toContain(token);
    expect(sandbox!.google.requests).toHaveLength(1);
  });

  it('maps 403 and an unknown or non-Customer-Match list to FatalError naming the list', async () => {
    await setup({ google: { customers: ['1111111111'], userLists: { [CID]: [LIST] } } });
    const denied = await failure(dataManager().send(batch('add', [{ email: EMAILS.dana }])));
    expect(denied).toBeInstanceOf(FatalError);
    expect(denied.message).toContain('refused access to customer 1234567890');
    expect((denied as FatalError).hint).toContain('login_customer_id');
    await sandbox!.close();

    await setup({ google: { userLists: { [CID]: [LIST] } } });
    const ruleBased = sandbox!.google.createUserList({ customerId: CID, type: 'RULE_BASED' });
    const unknown = await failure(dataManager().send(batch('add', [{ email: EMAILS.dana }], { audienceId: '4242' })));
    expect(unknown).toBeInstanceOf(FatalError);
    expect(unknown.message).toMatch(/^user list 4242 not found in customer 1234567890/);
    expect((unknown as FatalError).details.code).toBe('INVALID_USER_LIST_ID');
    const wrongType = await failure(dataManager().send(batch('remove', [{ email: EMAILS.dana }], { audienceId: ruleBased })));
    expect(wrongType.message).toContain(`user list ${ruleBased} in customer 1234567890 is not a Customer Match (CRM-based) list`);
  });

  it('maps unaccepted terms to FatalError with a hint, and refuses to upload when terms_of_service_accepted is false', async () => {
    await setup({ google: { termsNotAccepted: [CID] } });
    const error = await failure(dataManager().send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toContain('Customer Match terms are not accepted');
    expect((error as FatalError).hint).toContain('accept the Customer Match terms');
    const before = sandbox!.google.requests.length;
    const refused = await failure(dataManager({ terms_of_service_accepted: false }).send(batch('add', [{ email: EMAILS.dana }])));
    expect([refused instanceof FatalError, (refused as FatalError).details.code]).toEqual([true, 'TERMS_NOT_ACCEPTED']);
    expect(sandbox!.google.requests.length).toBe(before); // nothing sent
    expect(await dataManager({ terms_of_service_accepted: false }).send(batch('remove', [{ email: EMAILS.dana }]))).toEqual({ accepted: 1, rejected: [] });
  });

  it('turns 429 into RetriableError honouring RetryInfo.retryDelay, and 503, resets and timeouts into RetriableError', async () => {
    await setup({ google: { faults: { timeoutMs: 5_000 } } });
    const google = dataManager({ timeout_ms: 300 });
    sandbox!.google.failNext(1, 'throttle', { retryAfterMs: 1500 });
    sandbox!.google.failNext(1, 'throttle');
    sandbox!.google.failNext(1, 'error');
    sandbox!.google.failNext(1, 'reset');
    sandbox!.google.failNext(1, 'timeout');
    const send = () => failure(google.send(batch('add', [{ email: EMAILS.dana }])));
    const throttled = (await send()) as RetriableError;
    expect([throttled instanceof RetriableError, throttled.details]).toEqual([true, { status: 429, code: 'RESOURCE_EXHAUSTED', retryAfterMs: 1500 }]);
    expect(((await send()) as RetriableError).details.retryAfterMs).toBeUndefined();
    const unavailable = (await send()) as RetriableError;
    expect([unavailable instanceof RetriableError, unavailable.details.status, unavailable.message]).toEqual([true, 503, 'the Data Manager API answered HTTP 503 UNAVAILABLE: The service is currently unavailable.']);
    const host = new URL(sandbox!.url).host;
    expect((await send()).message).toBe(`connection reset by ${host}`);
    expect((await send()).message).toBe(`request to ${host} timed out after 300 ms`);
    expect(await google.send(batch('add', [{ email: EMAILS.dana }]))).toEqual({ accepted: 1, rejected: [] });
  });

  it('fails with FatalError when Google refuses the request itself rather than its members', async () => {
    const google = await recorder(() => ({
      status: 400,
      body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'There was a problem with the request.', details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'encoding', reason: 'REQUIRED_FIELD_MISSING', description: 'Encoding is required.' }] }] } },
    }));
    sandbox = await startSandbox();
    const error = await failure(dataManager({ api_base_url: google.url }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toContain('REQUIRED_FIELD_MISSING at encoding: Encoding is required.');
  });
});

describe('Google platform: OAuth refresh tokens', () => {
  const oauth = { client_id: 'client-1.apps.googleusercontent.com', client_secret: 'client-secret-value', refresh_token: '1//refresh-token-value' };
  const google = { clientSecret: oauth.client_secret, refreshTokens: [oauth.refresh_token], tokens: [] };

  it('mints a token once, refreshes once when it expires mid-run, then retries the same request', async () => {
    await setup({ google });
    const platform = dataManager({ access_token: undefined, oauth });
    expect((await platform.send(batch('add', [{ email: EMAILS.dana }]))).accepted).toBe(1);
    expect((await platform.send(batch('add', [{ email: EMAILS.danam }]))).accepted).toBe(1);
    expect(sandbox!.google.tokensMinted).toBe(1);
    sandbox!.google.expireAccessTokens();
    expect((await platform.send(batch('add', [{ email: EMAILS.quinn }]))).accepted).toBe(1);
    expect(sandbox!.google.tokensMinted).toBe(2);
    expect(sandbox!.google.requests.map((r) => `${r.op} ${r.status}`)).toEqual(['token 200', 'ingest 200', 'ingest 200', 'ingest 401', 'token 200', 'ingest 200']);
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.danam, EMAILS.quinn].sort());
  });

  it('shares one exchange among concurrent requests, and renews shortly before expires_in', async () => {
    await setup({ google: { ...google, tokenLifetimeMs: 1000 } });
    const platform = dataManager({ access_token: undefined, oauth });
    const sends = () => Promise.all(Array.from({ length: 6 }, (_, i) => platform.send(batch('add', [{ email: sha(`c${i}`) }]))));
    await sends();
    expect(sandbox!.google.tokensMinted).toBe(1);
    sandbox!.google.expireAccessTokens();
    expect((await sends()).every((r) => r.accepted === 1)).toBe(true);
    expect(sandbox!.google.tokensMinted).toBe(2);
    // expires_in is 1 s: renewed from 0.9 s on, before Google would refuse it at 1 s.
    await new Promise((resolve) => setTimeout(resolve, 930));
    await platform.send(batch('add', [{ email: EMAILS.dana }]));
    expect(sandbox!.google.tokensMinted).toBe(3);
    expect(sandbox!.google.requests.slice(-2).map((r) => `${r.op} ${r.status}`)).toEqual(['token 200', 'ingest 200']); // renewed before, not after a 401
  });

  it('fails with FatalError when the refresh token is revoked or the client is wrong, naming neither secret', async () => {
    await setup({ google });
    const revoked = await failure(dataManager({ access_token: undefined, oauth: { ...oauth, refresh_token: '1//revoked-refresh-token' } }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(revoked).toBeInstanceOf(FatalError);
    expect(revoked.message).toBe(`the token endpoint ${new URL(sandbox!.url).host} refused the refresh token (invalid_grant: Token has been expired or revoked.)`);
    expect((revoked as FatalError).hint).toContain('oauth.refresh_token');
    const client = await failure(dataManager({ access_token: undefined, oauth: { ...oauth, client_secret: 'wrong-client-secret' } }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(client.message).toContain('refused the OAuth client (invalid_client');
    sandbox!.google.failNext(1, 'error', { op: 'token' });
    expect(await failure(dataManager({ access_token: undefined, oauth }).send(batch('add', [{ email: EMAILS.dana }])))).toBeInstanceOf(RetriableError);
    for (const error of [revoked, client]) {
      const text = `${error.message} ${(error as FatalError).hint}`;
      for (const secret of [oauth.client_secret, oauth.refresh_token, '1//revoked-refresh-token', 'wrong-client-secret']) expect(text).not.toContain(secret);
    }
  });

  it('gives up with FatalError when a fresh token is refused too, without a token in the message', async () => {
    await setup({ google });
    const platform = dataManager({ access_token: undefined, oauth });
    sandbox!.google.failNext(2, 'invalid_token');
    const error = await failure(platform.send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(FatalError);
    expect(sandbox!.google.tokensMinted).toBe(2);
    expect(error.message).not.toMatch(/ya29\./);
  });
});

describe('Google platform (Google Ads API): OfflineUserDataJob', () => {
  it('puts adds and removes of a run into one job, runs it at finish, and reports the job', async () => {
    await setup({ google: { processingMs: 60_000 } });
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana, phone: PHONES.p100, ...ADDRESS }, { email: EMAILS.danam }]));
    await ads.send(batch('add', [{ email: EMAILS.quinn }]));
    expect(sandbox!.google.members(LIST)).toEqual([]); // staged until the job runs
    const report = (await ads.finish(LIST, 'add'))!;
    expect(report).toEqual({
      kind: 'google_job',
      reference: `customers/${CID}/offlineUserDataJobs/9000000001`,
      status: 'RUNNING',
      details: { api: 'google_ads', op: 'add', customer_id: CID, user_list_id: LIST, creates: 3, removes: 0, remove_all: false },
    });
    expect(await ads.finish(LIST, 'remove')).toBeUndefined();
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.danam, EMAILS.quinn].sort());
    expect(sandbox!.google.members(LIST, 'address')).toEqual([`${sha('dana')}|${sha('doe')}|US|94045`]);
    expect(sandbox!.google.requests.map((r) => r.op)).toEqual(['create_job', 'add_operations', 'add_operations', 'run_job']);
    expect((await ads.refreshReport(report)).status).toBe('RUNNING');
    sandbox!.google.completeAll();
    expect(await ads.retrieveJobStatus(report.reference)).toEqual({ kind: 'google_job', reference: report.reference, status: 'SUCCESS', details: { match_rate_range: 'MATCH_RANGE_71_TO_80' } });

    // The runner's order: removals, finish('remove'), adds, finish('add'): one job for both.
    await ads.send(batch('remove', [{ email: EMAILS.danam }]));
    const waiting = (await ads.finish(LIST, 'remove'))!;
    expect([waiting.status, waiting.details.removes, sandbox!.google.members(LIST)]).toEqual(['PENDING', 1, [EMAILS.dana, EMAILS.danam, EMAILS.quinn].sort()]);
    await ads.send(batch('add', [{ email: EMAILS.alexf }]));
    const second = (await ads.finish(LIST, 'add'))!;
    expect([second.reference, second.status, second.details.creates, second.details.removes]).toEqual([waiting.reference, 'RUNNING', 1, 1]);
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.quinn, EMAILS.alexf].sort());
    expect(sandbox!.google.jobs()).toHaveLength(2);
  });

  it('runs a job holding only removals at close(), and logs rather than throws when it cannot', async () => {
    await setup();
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana }, { email: EMAILS.danam }]));
    await ads.finish(LIST, 'add');
    sandbox!.google.completeAll();
    await ads.send(batch('remove', [{ email: EMAILS.danam }]));
    expect((await ads.finish(LIST, 'remove'))!.status).toBe('PENDING');
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.danam].sort());
    await ads.close();
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana]);
    expect(sandbox!.google.jobs().map((j) => j.status)).toEqual(['SUCCESS', 'RUNNING']);

    const again = googleAds();
    await again.send(batch('remove', [{ email: EMAILS.dana }]));
    await again.finish(LIST, 'remove');
    await again.close(); // the previous job still runs: CONCURRENT_MODIFICATION, logged
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana]);
    expect(sandbox!.google.requests.at(-1)).toMatchObject({ op: 'run_job', status: 400, reason: 'CONCURRENT_MODIFICATION' });
  });

  it('runs a job of removals in finish() when no adds follow (last), so a refusal reaches the runner', async () => {
    await setup({ google: { processingMs: 60_000 } });
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana }, { email: EMAILS.danam }]));
    await ads.finish(LIST, 'add', { last: true });
    await ads.send(batch('remove', [{ email: EMAILS.danam }]));
    const busy = await failure(ads.finish(LIST, 'remove', { last: true }));
    expect((busy as RetriableError).details.code).toBe('CONCURRENT_MODIFICATION');
    sandbox!.google.completeAll();
    expect(await ads.finish(LIST, 'remove', { last: true })).toMatchObject({ status: 'RUNNING', details: { op: 'remove', removes: 1 } });
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana]);
    await ads.close(); // nothing left to run
    expect(sandbox!.google.requests.filter((r) => r.op === 'run_job').map((r) => r.status)).toEqual([200, 400, 200]);
  });

  it('sends the developer-token and login-customer-id headers, one identifier per UserIdentifier', async () => {
    const google = await recorder((path) => ({
      status: 200,
      body: path.endsWith(':create') ? { resourceName: `customers/${CID}/offlineUserDataJobs/1` } : {},
    }));
    sandbox = await startSandbox();
    const ads = googleAds({ api_base_url: google.url, login_customer_id: '987-654-3210', developer_token: 'dev-token-123', consent: { ad_user_data: 'GRANTED' } });
    await ads.send(batch('add', [{ email: EMAILS.dana, phone: PHONES.p100, ...ADDRESS }]));
    const [create, add] = google.calls;
    expect(create!.path).toBe(`/v24/customers/${CID}/offlineUserDataJobs:create`);
    expect(create!.body).toEqual({ job: { type: 'CUSTOMER_MATCH_USER_LIST', customerMatchUserListMetadata: { userList: `customers/${CID}/userLists/${LIST}`, consent: { adUserData: 'GRANTED' } } } });
    expect([create!.headers['developer-token'], create!.headers['login-customer-id'], create!.headers.authorization]).toEqual(['dev-token-123', '9876543210', `Bearer ${SANDBOX_TOKEN}`]);
    expect(add!.path).toBe(`/v24/customers/${CID}/offlineUserDataJobs/1:addOperations`);
    expect(add!.body).toEqual({
      enablePartialFailure: true,
      operations: [
        {
          create: {
            userIdentifiers: [
              { hashedEmail: EMAILS.dana },
              { hashedPhoneNumber: PHONES.p100 },
              { addressInfo: { hashedFirstName: sha('dana'), hashedLastName: sha('doe'), countryCode: 'US', postalCode: '94045' } },
            ],
          },
        },
      ],
    });
  });

  it('maps a partial failure to the rows Google names, counting the rest as accepted', async () => {
    await setup();
    const ads = googleAds();
    const rows: HashedRow[] = [{ email: EMAILS.dana }, { first_name: sha('x') }, { email: 'BAD' }, { email: EMAILS.danam }, { phone: PHONES.p100.slice(1) }];
    const result = await ads.send(batch('add', rows));
    expect(result).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, code: 'NO_IDENTIFIER', reason: expect.any(String) },
        { index: 2, code: 'INVALID_SHA256_FORMAT', reason: 'INVALID_SHA256_FORMAT: The SHA256 encoded value is malformed.' },
        { index: 4, code: 'INVALID_SHA256_FORMAT', reason: 'INVALID_SHA256_FORMAT: The SHA256 encoded value is malformed.' },
      ],
    });
    await ads.finish(LIST, 'add');
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.danam].sort());
  });

  it('shares one job among concurrent sends, and retries CONCURRENT_MODIFICATION at run', async () => {
    await setup({ google: { processingMs: 60_000 } });
    const ads = googleAds();
    await Promise.all([0, 1, 2, 3].map((i) => ads.send(batch('add', [{ email: sha(`p${i}`) }]))));
    expect(sandbox!.google.requests.filter((r) => r.op === 'create_job')).toHaveLength(1);
    await ads.finish(LIST, 'add');
    await ads.send(batch('add', [{ email: EMAILS.dana }])); // a second job while the first runs
    const conflict = await failure(ads.finish(LIST, 'add'));
    expect(conflict).toBeInstanceOf(RetriableError);
    expect((conflict as RetriableError).details).toEqual({ status: 400, code: 'CONCURRENT_MODIFICATION' });
    expect(conflict.message).toBe(
      `the Google Ads API refused to run job customers/${CID}/offlineUserDataJobs/9000000002 (CONCURRENT_MODIFICATION): the previous job of user list ${LIST} in customer ${CID} is still running, and Google runs one job per list at a time`,
    );
    expect((conflict as RetriableError).hint).toMatch(/minutes to hours/);
    sandbox!.google.completeAll();
    expect((await ads.finish(LIST, 'add'))!.details).toMatchObject({ creates: 1 });
    expect(sandbox!.google.members(LIST)).toContain(EMAILS.dana);
  });

  it('abandon() forgets a job that could not be run: never run later, the next change opens a new job', async () => {
    await setup({ google: { processingMs: 60_000 } });
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana }]));
    await ads.finish(LIST, 'add');
    await ads.send(batch('remove', [{ email: EMAILS.dana }]));
    await ads.finish(LIST, 'remove'); // deferred: waits for adds, or close()
    await ads.send(batch('add', [{ email: EMAILS.quinn }]));
    expect(await failure(ads.finish(LIST, 'add'))).toBeInstanceOf(RetriableError);
    ads.abandon(LIST);
    sandbox!.google.completeAll();
    await ads.close();
    expect(await ads.finish(LIST, 'add')).toBeUndefined();
    expect(sandbox!.google.jobs().map((j) => [j.status, j.creates, j.removes])).toEqual([
      ['SUCCESS', 1, 0],
      ['PENDING', 1, 1],
    ]);
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana]);
    await ads.send(batch('add', [{ email: EMAILS.quinn }]));
    expect((await ads.finish(LIST, 'add'))!.reference).toBe(`customers/${CID}/offlineUserDataJobs/9000000003`);
  });

  it('names the Google Ads error code and message of a retriable refusal, not the envelope\'s "invalid argument"', async () => {
    const google = await recorder((path) =>
      path.endsWith(':create')
        ? { status: 200, body: { resourceName: `customers/${CID}/offlineUserDataJobs/1` } }
        : {
            status: 400,
            body: {
              error: {
                code: 400,
                message: 'Request contains an invalid argument.',
                status: 'INVALID_ARGUMENT',
                details: [
                  {
                    '@type': 'type.googleapis.com/google.ads.googleads.v24.errors.GoogleAdsFailure',
                    errors: [{ errorCode: { databaseError: 'CONCURRENT_MODIFICATION' }, message: 'Multiple requests were attempting to modify the same resource at once. Retry the request.' }],
                  },
                ],
              },
            },
          },
    );
    sandbox = await startSandbox();
    const error = await failure(googleAds({ api_base_url: google.url }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(RetriableError);
    expect([(error as RetriableError).details.code, error.message]).toEqual([
      'CONCURRENT_MODIFICATION',
      'the Google Ads API answered HTTP 400 INVALID_ARGUMENT: CONCURRENT_MODIFICATION: Multiple requests were attempting to modify the same resource at once. Retry the request.',
    ]);
  });

  const runElsewhere = (job: string) =>
    fetch(`${sandbox!.urlFor('google')}/v24/${job}:run`, { method: 'POST', headers: { authorization: `Bearer ${SANDBOX_TOKEN}`, 'developer-token': SANDBOX_TOKEN, 'content-type': 'application/json' }, body: '{}' });

  it('starts a new job when the old one no longer takes operations', async () => {
    await setup();
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana }]));
    expect((await runElsewhere(sandbox!.google.jobs()[0]!.resourceName)).status).toBe(200);
    const stale = await failure(ads.send(batch('add', [{ email: EMAILS.danam }])));
    expect([stale instanceof RetriableError, (stale as RetriableError).details.code]).toEqual([true, 'JOB_ALREADY_STARTED']);
    sandbox!.google.completeAll();
    expect((await ads.send(batch('add', [{ email: EMAILS.danam }]))).accepted).toBe(1);
    const report = (await ads.finish(LIST, 'add'))!;
    expect(report.reference).toBe(sandbox!.google.jobs()[1]!.resourceName);
    expect(sandbox!.google.members(LIST)).toEqual([EMAILS.dana, EMAILS.danam].sort());
  });

  it('counts a run whose answer was lost (JOB_ALREADY_STARTED on the retry) as started', async () => {
    await setup();
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana }]));
    const job = sandbox!.google.jobs()[0]!.resourceName;
    expect((await runElsewhere(job)).status).toBe(200);
    expect(await ads.finish(LIST, 'add')).toMatchObject({ kind: 'google_job', reference: job, status: 'RUNNING' });
    expect(await ads.finish(LIST, 'add')).toBeUndefined();
  });

  it('does a full refresh as a removeAll first in the job, and refuses removeAll after other changes', async () => {
    await setup();
    const ads = googleAds();
    await ads.send(batch('add', [{ email: EMAILS.dana, phone: PHONES.p100 }]));
    await ads.finish(LIST, 'add');
    sandbox!.google.completeAll();
    await ads.removeAll(LIST);
    await ads.send(batch('add', [{ email: EMAILS.quinn }]));
    const report = (await ads.finish(LIST, 'add'))!;
    expect(report.details).toMatchObject({ remove_all: true, creates: 1 });
    expect([sandbox!.google.members(LIST), sandbox!.google.members(LIST, 'phone')]).toEqual([[EMAILS.quinn], []]);
    await ads.send(batch('add', [{ email: EMAILS.dana }]));
    await expect(ads.removeAll(LIST)).rejects.toThrow(/removeAll must come before/);
  });

  it('maps a bad developer token to FatalError without spending a token refresh, and throttling to retryAfterMs', async () => {
    await setup({ google: { developerTokens: ['the-real-dev-token'], clientSecret: 's3cret-value', refreshTokens: ['1//refresh-token-value'] } });
    const oauth = { client_id: 'c', client_secret: 's3cret-value', refresh_token: '1//refresh-token-value' };
    const error = await failure(googleAds({ access_token: undefined, oauth, developer_token: 'a-wrong-dev-token' }).send(batch('add', [{ email: EMAILS.dana }])));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toMatch(/^the Google Ads API refused the developer token for customer 1234567890/);
    expect((error as FatalError).details.code).toBe('DEVELOPER_TOKEN_INVALID');
    expect(error.message).not.toContain('a-wrong-dev-token');
    expect(sandbox!.google.tokensMinted).toBe(1);

    const ads = googleAds({ access_token: undefined, oauth, developer_token: 'the-real-dev-token' });
    await ads.send(batch('add', [{ email: EMAILS.dana }]));
    sandbox!.google.failNext(1, 'throttle', { retryAfterMs: 12_000 });
    const throttled = (await failure(ads.send(batch('add', [{ email: EMAILS.danam }])))) as RetriableError;
    expect([throttled instanceof RetriableError, throttled.details.retryAfterMs]).toEqual([true, 12_000]);
  });

  it('maps an unknown list and unaccepted terms at job creation to FatalError', async () => {
    await setup({ google: { userLists: { [CID]: [LIST] }, termsNotAccepted: ['2222222222'] } });
    const unknown = await failure(googleAds().send(batch('add', [{ email: EMAILS.dana }], { audienceId: '4242' })));
    expect(unknown.message).toMatch(/^user list 4242 not found in customer 1234567890/);
    sandbox!.google.createUserList({ customerId: '2222222222', id: '5555' });
    const terms = await failure(googleAds({ customer_id: '2222222222' }).send(batch('add', [{ email: EMAILS.dana }], { audienceId: '5555' })));
    expect([terms instanceof FatalError, (terms as FatalError).details.code]).toEqual([true, 'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS']);
  });
});
