// The Meta platform against the Meta simulator over real loopback HTTP.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FatalError, RetriableError } from '../../src/core/errors.js';
import type { HashedRow } from '../../src/core/identifiers.js';
import { silentLogger } from '../../src/core/log.js';
import { checkBaseUrl, isLoopbackHost } from '../../src/platforms/http/base-url.js';
import { sendRequest } from '../../src/platforms/http/request.js';
import { metaConfigSchema } from '../../src/platforms/meta/config.js';
import { definition } from '../../src/platforms/meta/index.js';
import { decodeRows } from '../../src/platforms/delivery/batcher.js';
import { buildPayload } from '../../src/platforms/meta/payload.js';
import type { DeliveryBatch, Platform } from '../../src/platforms/platform.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');
const ACT = 'act_100';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup(options: SandboxOptions = {}, config: Record<string, unknown> = {}): Promise<Platform> {
  sandbox = await startSandbox(options);
  return platform(config);
}

function platform(config: Record<string, unknown> = {}): Platform {
  const parsed = metaConfigSchema.parse({ ad_account_id: ACT, access_token: SANDBOX_TOKEN, api_base_url: sandbox!.urlFor('meta'), timeout_ms: 5000, ...config });
  // Requests go straight out, without the runner's per-account rate limit (test/e2e covers that).
  return definition.create(parsed, { logger: silentLogger, http: sendRequest });
}

const rows = (...names: string[]): HashedRow[] => names.map((n) => ({ email: sha(`${n}@example.com`) }));
const batch = (audienceId: string, op: 'add' | 'remove', data: HashedRow[]): DeliveryBatch => ({ audienceId, op, kinds: ['email'], rows: data });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('Meta platform: resolveAudience', () => {
  it('creates an audience by name once and finds it afterwards, never duplicating it', async () => {
    const meta = await setup();
    expect(await meta.resolveAudience({ name: 'Buyers' }, { create: false })).toBeNull(); // plan: nothing created
    expect(sandbox!.meta.audiences()).toEqual([]);
    const [a, b] = await Promise.all([meta.resolveAudience({ name: 'Buyers' }, { create: true }), meta.resolveAudience({ name: 'Buyers' }, { create: true })]);
    expect(a).toBe(b);
    const again = await platform().resolveAudience({ name: 'Buyers' }, { create: true }); // a later run
    expect(again).toBe(a);
    expect(sandbox!.meta.audiences()).toEqual([{ id: a, adAccountId: ACT, name: 'Buyers' }]);
    expect(sandbox!.meta.requests.filter((r) => r.op === 'create')).toHaveLength(1);
  });

  it('follows paging cursors to find a name past the first page', async () => {
    const meta = await setup();
    for (let i = 0; i < 230; i++) sandbox!.meta.createAudience({ adAccountId: ACT, name: `Other ${i}` });
    const target = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Late' });
    expect(await meta.resolveAudience({ name: 'Late' }, { create: true })).toBe(target);
    expect(sandbox!.meta.requests.filter((r) => r.op === 'list')).toHaveLength(3);
  });

  it('refuses a name that two audiences share, naming both ids', async () => {
    const meta = await setup();
    const one = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Twins' });
    const two = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Twins' });
    const error = await failure(meta.resolveAudience({ name: 'Twins' }, { create: true }));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toContain(`${one}, ${two}`);
    expect((error as FatalError).hint).toContain('audience: { id:');
    expect(sandbox!.meta.audiences()).toHaveLength(2);
  });

  it('checks an audience id exists, and fails on an unknown one', async () => {
    const meta = await setup();
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Known' });
    expect(await meta.resolveAudience({ id }, { create: false })).toBe(id);
    const error = await failure(meta.resolveAudience({ id: '123456' }, { create: true }));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toMatch(/^audience 123456 not found or not shared with ad account act_100/);
    expect(sandbox!.meta.audiences()).toHaveLength(1);
  });
});

describe('Meta platform: send', () => {
  it('adds and removes exactly the rows sent', async () => {
    const meta = await setup();
    const id = (await meta.resolveAudience({ name: 'Buyers' }, { create: true }))!;
    expect(await meta.send(batch(id, 'add', rows('a', 'b', 'c')))).toEqual({ accepted: 3, rejected: [] });
    expect(await meta.send(batch(id, 'remove', rows('b')))).toEqual({ accepted: 1, rejected: [] });
    expect(sandbox!.meta.members(id)).toEqual([sha('a@example.com'), sha('c@example.com')].sort());
    expect(sandbox!.meta.requests.slice(-2).map((r) => [r.method, r.op, r.rows])).toEqual([['POST', 'add', 3], ['DELETE', 'remove', 1]]);
  });

  it('sends rows the warehouse wrote, as text or as UTF-8 bytes, as exactly those rows', async () => {
    const meta = await setup();
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Buyers' });
    const encoded = (json: string | Uint8Array, count: number): DeliveryBatch => ({ audienceId: id, op: 'add', kinds: ['email'], rows: [], encoded: { json, count } });
    expect(await meta.send(encoded(JSON.stringify([[sha('a@example.com')], [sha('b@example.com')]]), 2))).toEqual({ accepted: 2, rejected: [] });
    expect(await meta.send(encoded(Buffer.from(JSON.stringify([[sha('c@example.com')]])), 1))).toEqual({ accepted: 1, rejected: [] });
    expect(sandbox!.meta.members(id)).toEqual([sha('a@example.com'), sha('b@example.com'), sha('c@example.com')].sort());
    expect(sandbox!.meta.requests.slice(-2).map((r) => [r.op, r.rows])).toEqual([['add', 2], ['add', 1]]);
  });

  it('decodes an encoded batch given as UTF-8 bytes (to bisect it) into the same rows as its text', () => {
    const text = JSON.stringify([['ÉLODIE-ü-😀', sha('a@example.com')], ['x"\\y', '']]);
    const kinds = ['external_id', 'email'] as const;
    const expected = [{ external_id: 'ÉLODIE-ü-😀', email: sha('a@example.com') }, { external_id: 'x"\\y' }];
    expect(decodeRows({ json: text, count: 2 }, [...kinds])).toEqual(expected);
    const bytes = Buffer.from(`pad${text}pad`).subarray(3, 3 + Buffer.byteLength(text)); // a view into a larger buffer
    expect(decodeRows({ json: bytes, count: 2 }, [...kinds])).toEqual(expected);
  });

  it('builds the payload in the order of batch.kinds, missing values as ""', () => {
    const payload = buildPayload(['email', 'external_id', 'phone'], [{ email: 'e', phone: 'p' }, { external_id: 'x' }]);
    expect(payload).toEqual({ schema: ['EMAIL', 'EXTERN_ID', 'PHONE'], is_raw: true, data: [['e', '', 'p'], ['', 'x', '']] });
  });

  it('rejects every row of a payload Meta refuses, without throwing', async () => {
    const meta = await setup();
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Buyers' });
    const bad = [...rows('a'), { email: sha('b@example.com').toUpperCase() }];
    const result = await meta.send(batch(id, 'add', bad));
    expect(result.accepted).toBe(0);
    expect(result.rejected).toEqual([0, 1].map((index) => ({ index, code: '100', reason: expect.stringContaining('EMAIL') })));
    expect(sandbox!.meta.members(id)).toEqual([]);
    const tooMany = await meta.send(batch(id, 'add', Array.from({ length: 10_001 }, (_, i) => ({ email: sha(String(i)) }))));
    expect(tooMany.rejected).toHaveLength(10_001);
    expect(tooMany.rejected[10_000]).toMatchObject({ index: 10_000, code: '105' });
  });

  it('fails with FatalError on a bad token, never echoing it', async () => {
    const token = 'EAAB-not-a-valid-token-1234567890';
    const meta = await setup({}, { access_token: token });
    const error = await failure(meta.send(batch('23850000000000001', 'add', rows('a'))));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toMatch(/^Meta rejected the access token for ad account act_100: Invalid OAuth access token/);
    expect((error as FatalError).hint).toContain('ads_management');
    expect(`${error.message} ${(error as FatalError).hint}`).not.toContain(token);
    expect(JSON.stringify(sandbox!.meta.requests)).not.toContain(token);
  });

  it('fails with FatalError when the token may not use the ad account', async () => {
    const meta = await setup({ meta: { adAccounts: ['act_1'] } });
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Theirs' });
    const error = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toContain('no permission');
  });

  it('sends appsecret_proof when app_secret is set, and fails clearly when it is wrong', async () => {
    const meta = await setup({ meta: { appSecret: 'the-app-secret' } }, { app_secret: 'the-app-secret' });
    const id = (await meta.resolveAudience({ name: 'Proved' }, { create: true }))!;
    expect((await meta.send(batch(id, 'add', rows('a')))).accepted).toBe(1);
    const error = await failure(platform({ app_secret: 'another-secret' }).send(batch(id, 'add', rows('b'))));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.message).toContain('appsecret_proof');
  });

  it('turns a throttle into RetriableError carrying the announced delay', async () => {
    const meta = await setup();
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Busy' });
    sandbox!.meta.failNext(1, 'throttle', { retryAfterMs: 3 * 60_000 });
    sandbox!.meta.failNext(1, 'throttle'); // under a minute: Meta announces 0
    const slow = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect(slow).toBeInstanceOf(RetriableError);
    expect((slow as RetriableError).details).toMatchObject({ code: '80003', retryAfterMs: 180_000 });
    const brief = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect(brief).toBeInstanceOf(RetriableError);
    expect((brief as RetriableError).details.retryAfterMs).toBeUndefined();
  });

  it('turns 5xx, resets and timeouts into RetriableError', async () => {
    const meta = await setup({}, { timeout_ms: 300 });
    const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'Flaky' });
    sandbox!.meta.failNext(1, 'error');
    sandbox!.meta.failNext(1, 'reset');
    sandbox!.meta.failNext(1, 'timeout');
    const host = new URL(sandbox!.url).host;
    const server = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect([server instanceof RetriableError, (server as RetriableError).details.status]).toEqual([true, 500]);
    const reset = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect(reset).toBeInstanceOf(RetriableError);
    expect(reset.message).toBe(`connection reset by ${host}`);
    const timeout = await failure(meta.send(batch(id, 'add', rows('a'))));
    expect(timeout).toBeInstanceOf(RetriableError);
    expect(timeout.message).toBe(`request to ${host} timed out after 300 ms`);
    expect(await meta.send(batch(id, 'add', rows('a')))).toEqual({ accepted: 1, rejected: [] });
  });
});

describe('HTTP helpers', () => {
  it('allows plain http only on loopback hosts', () => {
    expect(checkBaseUrl('http://127.0.0.1:4010/meta/')).toBe('http://127.0.0.1:4010/meta');
    expect(checkBaseUrl('https://graph.facebook.com/')).toBe('https://graph.facebook.com');
    expect(checkBaseUrl('http://localhost:8080')).toBe('http://localhost:8080');
    expect(checkBaseUrl('http://[::1]:8080/x')).toBe('http://[::1]:8080/x');
    expect(() => checkBaseUrl('http://graph.facebook.com')).toThrow(/loopback/);
    expect(() => checkBaseUrl('http://10.0.0.1:8080')).toThrow(/loopback/);
    expect(() => checkBaseUrl('ftp://127.0.0.1')).toThrow(/https/);
    expect(() => checkBaseUrl('not a url')).toThrow(/not a valid URL/);
    expect([isLoopbackHost('127.8.9.10'), isLoopbackHost('::1'), isLoopbackHost('128.0.0.1'), isLoopbackHost('localhost.evil.com')]).toEqual([true, true, false, false]);
  });

  it('refuses to create a platform pointed at plain http off loopback', async () => {
    sandbox = await startSandbox();
    expect(() => platform({ api_base_url: 'http://graph.example.com' })).toThrow(/loopback/);
  });

  it('reports a refused connection as RetriableError naming only the host', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error = await failure(sendRequest({ method: 'GET', url: `http://127.0.0.1:${port}/x?access_token=secret-value`, timeoutMs: 2000 }));
    expect(error).toBeInstanceOf(RetriableError);
    expect(error.message).toBe(`connection refused by 127.0.0.1:${port}`);
  });
});
