// The Meta simulator, driven with raw fetch: it must enforce the published contract (see
// shared/reference/destination-apis.md section 1), not just accept what our platform sends.
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

const sha = (value: string): string => createHash('sha256').update(value).digest('hex');
const ACT = 'act_100';

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
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, init: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | URLSearchParams | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) body = new URLSearchParams(init.form);
  const response = await fetch(`${sandbox!.urlFor('meta')}${path}`, { method, headers, body });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const emails = (...names: string[]): string[][] => names.map((n) => [sha(`${n}@example.com`)]);
const users = (data: unknown[], extra: Record<string, unknown> = {}) => ({
  access_token: SANDBOX_TOKEN,
  payload: { schema: ['EMAIL'], is_raw: true, data },
  ...extra,
});

async function newAudience(name = 'Buyers', account = ACT): Promise<string> {
  const answer = await call('POST', `/v21.0/${account}/customaudiences`, {
    json: { access_token: SANDBOX_TOKEN, name, subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY' },
  });
  expect(answer.status).toBe(200);
  return answer.body.id;
}

describe('Meta simulator: auth', () => {
  it('refuses a missing or unknown token with OAuthException 190', async () => {
    await start();
    const id = await newAudience();
    const missing = await call('POST', `/v21.0/${id}/users`, { json: { payload: { schema: ['EMAIL'], is_raw: true, data: emails('a') } } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 190, type: 'OAuthException', message: 'Invalid OAuth access token - Cannot parse access token' });
    expect(missing.body.error.fbtrace_id).toEqual(expect.any(String));
    const wrong = await call('POST', `/v21.0/${id}/users`, { json: users(emails('a'), { access_token: 'not-the-token' }) });
    expect(wrong.body.error.code).toBe(190);
    expect(sandbox!.meta.members(id)).toEqual([]);
  });

  it('reads the token from the query, a form field, a JSON field or an Authorization header', async () => {
    await start();
    const list = `/v21.0/${ACT}/customaudiences`;
    expect((await call('GET', `${list}?access_token=${SANDBOX_TOKEN}`)).status).toBe(200);
    expect((await call('GET', list, { headers: { authorization: `Bearer ${SANDBOX_TOKEN}` } })).status).toBe(200);
    expect((await call('GET', list, { headers: { authorization: `OAuth ${SANDBOX_TOKEN}` } })).status).toBe(200);
    expect((await call('GET', list)).body.error.code).toBe(190);
    const form = await call('POST', list, { form: { access_token: SANDBOX_TOKEN, name: 'F', subtype: 'CUSTOM' } });
    expect(form.body.id).toMatch(/^\d+$/);
  });

  it('refuses an ad account the token may not use with 403 code 200', async () => {
    await start({ meta: { adAccounts: [ACT] } });
    const other = sandbox!.meta.createAudience({ adAccountId: 'act_200', name: 'Theirs' });
    const answer = await call('POST', `/v21.0/${other}/users`, { json: users(emails('a')) });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 200, message: `(#200) The current user can not update audience ${other}` });
    const list = await call('GET', `/v21.0/act_200/customaudiences?access_token=${SANDBOX_TOKEN}`);
    expect([list.status, list.body.error.code]).toEqual([403, 200]);
  });

  it('checks appsecret_proof when an app secret is set', async () => {
    await start({ meta: { appSecret: 'app-secret-1' } });
    const proof = createHmac('sha256', 'app-secret-1').update(SANDBOX_TOKEN).digest('hex');
    const list = `/v21.0/${ACT}/customaudiences?access_token=${SANDBOX_TOKEN}`;
    expect((await call('GET', list)).body.error).toMatchObject({ code: 100, message: expect.stringContaining('appsecret_proof') });
    expect((await call('GET', `${list}&appsecret_proof=${'0'.repeat(64)}`)).body.error.code).toBe(100);
    expect((await call('GET', `${list}&appsecret_proof=${proof}`)).status).toBe(200);
  });
});

describe('Meta simulator: users payload', () => {
  async function rejected(payload: unknown): Promise<any> {
    const id = await newAudience();
    const answer = await call('POST', `/v21.0/${id}/users`, { json: { access_token: SANDBOX_TOKEN, payload } });
    expect(answer.status).toBe(400);
    expect(sandbox!.meta.members(id)).toEqual([]); // one bad value fails the whole call
    return answer.body.error;
  }

  it('rejects unknown schema keys and rows of the wrong length with code 100', async () => {
    await start();
    expect((await rejected({ schema: ['EMAIL', 'SHOE_SIZE'], is_raw: true, data: [[sha('a'), sha('b')]] })).code).toBe(100);
    expect((await rejected({ schema: [], is_raw: true, data: [[sha('a')]] })).code).toBe(100);
    expect((await rejected({ schema: ['EMAIL', 'PHONE'], is_raw: true, data: [[sha('a'), sha('b')], [sha('c')]] })).message).toContain('data[1]');
  });

  it('rejects an uppercase or short hash with code 100 naming key and row, never the value', async () => {
    await start();
    const upper = sha('c@example.com').toUpperCase();
    const error = await rejected({ schema: ['EMAIL'], is_raw: true, data: [[sha('a')], [sha('b')], [upper]] });
    expect(error).toMatchObject({ code: 100, message: expect.stringContaining('EMAIL') });
    expect(error.message).toContain('data[2]');
    expect(error.message).not.toContain(upper);
    expect((await rejected({ schema: ['EMAIL'], is_raw: true, data: [['abc123']] })).code).toBe(100);
    expect((await rejected({ schema: ['EMAIL'], is_raw: true, data: [['a@example.com']] })).code).toBe(100);
  });

  it('answers more than 10,000 rows with code 105', async () => {
    await start();
    const data = Array.from({ length: 10_001 }, (_, i) => [sha(String(i))]);
    expect(await rejected({ schema: ['EMAIL'], is_raw: true, data })).toMatchObject({
      code: 105,
      message: expect.stringContaining('The number of parameters exceeded the maximum for this operation'),
    });
  });

  it('adds and removes values per schema key, counting all-empty rows as invalid', async () => {
    await start();
    const id = await newAudience();
    const payload = { schema: ['EMAIL', 'MADID'], is_raw: true, data: [[sha('a'), 'madid-1'], [sha('b'), ''], ['', '']] };
    const added = await call('POST', `/v21.0/${id}/users`, { json: { access_token: SANDBOX_TOKEN, payload } });
    expect(added.body).toEqual({ audience_id: id, session_id: expect.any(String), num_received: 3, num_invalid_entries: 1, invalid_entry_samples: {} });
    expect(sandbox!.meta.members(id)).toEqual([sha('a'), sha('b')].sort());
    expect(sandbox!.meta.members(id, 'MADID')).toEqual(['madid-1']);
    const removed = await call('DELETE', `/v21.0/${id}/users`, { json: users([[sha('a')]]) });
    expect(removed.status).toBe(200);
    expect(sandbox!.meta.members(id)).toEqual([sha('b')]);
    expect(sandbox!.meta.requests.map((r) => [r.op, r.rows, r.status])).toEqual([['create', 0, 200], ['add', 3, 200], ['remove', 1, 200]]);
  });

  it('takes a form-encoded body with the payload as JSON text', async () => {
    await start();
    const id = await newAudience();
    const payload = JSON.stringify({ schema: 'EMAIL_SHA256', data: [sha('x'), sha('y')] });
    const answer = await call('POST', `/v21.0/${id}/users`, { form: { access_token: SANDBOX_TOKEN, payload } });
    expect(answer.body.num_received).toBe(2);
    expect(sandbox!.meta.members(id)).toEqual([sha('x'), sha('y')].sort());
  });

  it('answers an unknown audience with 100/33 and a bad body with 100, and stays up', async () => {
    await start();
    const unknown = await call('POST', '/v21.0/999/users', { json: users(emails('a')) });
    expect(unknown.body.error).toMatchObject({ code: 100, error_subcode: 33, message: expect.stringContaining("Object with ID '999' does not exist") });
    const id = await newAudience();
    const garbage = await fetch(`${sandbox!.urlFor('meta')}/v21.0/${id}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payload":' });
    expect([garbage.status, ((await garbage.json()) as any).error.code]).toEqual([400, 100]);
    expect((await call('GET', `/v21/${ACT}/customaudiences?access_token=${SANDBOX_TOKEN}`)).body.error.code).toBe(2500);
    const index = await fetch(sandbox!.url); // the server answers after all the bad requests
    expect(((await index.json()) as any).simulators.meta).toBe(sandbox!.urlFor('meta'));
  });

  it('replaces membership only when the last batch of a usersreplace session arrives', async () => {
    await start();
    const id = await newAudience();
    await call('POST', `/v21.0/${id}/users`, { json: users(emails('old')) });
    const batch = (data: string[][], last: boolean) => users(data, { session: { session_id: 77, batch_seq: last ? 2 : 1, last_batch_flag: last } });
    await call('POST', `/v21.0/${id}/usersreplace`, { json: batch(emails('n1'), false) });
    expect(sandbox!.meta.members(id)).toEqual([sha('old@example.com')]);
    const last = await call('POST', `/v21.0/${id}/usersreplace`, { json: batch(emails('n2'), true) });
    expect(last.body.session_id).toBe('77');
    expect(sandbox!.meta.members(id)).toEqual([sha('n1@example.com'), sha('n2@example.com')].sort());
  });
});

describe('Meta simulator: audiences', () => {
  it('pages through customaudiences with cursors, 25 by default and at most 100', async () => {
    await start();
    for (let i = 0; i < 30; i++) sandbox!.meta.createAudience({ adAccountId: ACT, name: `A${i}` });
    sandbox!.meta.createAudience({ adAccountId: 'act_999', name: 'elsewhere' });
    const list = `/v21.0/${ACT}/customaudiences?access_token=${SANDBOX_TOKEN}&fields=id,name`;
    const first = await call('GET', list);
    expect(first.body.data).toHaveLength(25);
    expect(first.body.data[0]).toEqual({ id: expect.stringMatching(/^\d+$/), name: 'A0' });
    expect(first.body.paging.next).toContain('after=');
    const second = await call('GET', `${list}&after=${first.body.paging.cursors.after}`);
    expect(second.body.data.map((a: any) => a.name)).toEqual(['A25', 'A26', 'A27', 'A28', 'A29']);
    expect(second.body.paging.next).toBeUndefined();
    expect((await call('GET', `${list}&limit=500`)).body.data).toHaveLength(30);
    const audience = await call('GET', `/v21.0/${first.body.data[3].id}?fields=id,name,approximate_count_lower_bound&access_token=${SANDBOX_TOKEN}`);
    expect(audience.body).toEqual({ id: first.body.data[3].id, name: 'A3', approximate_count_lower_bound: 0 });
  });

  it('requires name and subtype CUSTOM, and numbers ids deterministically', async () => {
    await start();
    const create = (fields: Record<string, string>) => call('POST', `/v21.0/${ACT}/customaudiences`, { json: { access_token: SANDBOX_TOKEN, ...fields } });
    expect((await create({ subtype: 'CUSTOM' })).body.error.code).toBe(100);
    expect((await create({ name: 'X', subtype: 'LOOKALIKE' })).body.error.code).toBe(100);
    expect((await create({ name: 'X', subtype: 'CUSTOM' })).body).toEqual({ id: '23850000000000001' });
    expect((await create({ name: 'Y', subtype: 'CUSTOM' })).body).toEqual({ id: '23850000000000002' });
  });
});

describe('Meta simulator: throttling and faults', () => {
  it('throttles an ad account over its rate with code 80003 and the usage header, no Retry-After', async () => {
    await start({ meta: { rateLimit: { requestsPerSecond: 2, blockMs: 150_000 } } });
    const list = `/v21.0/${ACT}/customaudiences?access_token=${SANDBOX_TOKEN}`;
    const ok = await call('GET', list);
    const usage = JSON.parse(ok.headers.get('x-business-use-case-usage')!);
    expect(usage['100'][0]).toMatchObject({ type: 'CUSTOM_AUDIENCE', call_count: 50, estimated_time_to_regain_access: 0 });
    await call('GET', list);
    const throttled = await call('GET', list);
    expect(throttled.status).toBe(400);
    expect(throttled.body.error).toMatchObject({ code: 80003, message: 'There have been too many calls to this ad-account. Wait a bit and try again.' });
    expect(throttled.headers.get('retry-after')).toBeNull();
    expect(JSON.parse(throttled.headers.get('x-business-use-case-usage')!)['100'][0]).toMatchObject({ call_count: 100, estimated_time_to_regain_access: 2 });
    expect((await call('GET', `/v21.0/act_200/customaudiences?access_token=${SANDBOX_TOKEN}`)).status).toBe(200); // per account
  });

  it('fails the next users calls as queued, then recovers', async () => {
    await start();
    const id = await newAudience();
    const meta = sandbox!.meta;
    meta.failNext(1, 'error');
    meta.failNext(1, 'throttle', { retryAfterMs: 5 * 60_000 });
    meta.failNext(1, 'invalid_token');
    meta.failNext(1, 'reset');
    const send = () => call('POST', `/v21.0/${id}/users`, { json: users(emails('a')) });
    const error = await send();
    expect([error.status, error.body.error.code, error.body.error.message]).toEqual([500, 2, 'Service temporarily unavailable']);
    const throttle = await send();
    expect(throttle.body.error.code).toBe(80003);
    expect(JSON.parse(throttle.headers.get('x-business-use-case-usage')!)['100'][0].estimated_time_to_regain_access).toBe(5);
    expect((await send()).body.error.code).toBe(190);
    await expect(send()).rejects.toThrow();
    expect(meta.members(id)).toEqual([]);
    expect((await send()).status).toBe(200);
    expect(meta.members(id)).toEqual([sha('a@example.com')]);
    expect(meta.requests.slice(1).map((r) => r.fault ?? r.status)).toEqual(['error', 'throttle', 'invalid_token', 'reset', 200]);
  });

  it('draws random faults from a seed, so two runs see the same sequence', async () => {
    const statuses = async (): Promise<number[]> => {
      await start({ meta: { faults: { seed: 42, errorRate: 0.3, throttleRate: 0.2 } } });
      const id = sandbox!.meta.createAudience({ adAccountId: ACT, name: 'R' });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await call('POST', `/v21.0/${id}/users`, { json: users(emails('a')) })).status);
      await sandbox!.close();
      return out;
    };
    const first = await statuses();
    expect(new Set(first)).toEqual(new Set([200, 400, 500]));
    expect(await statuses()).toEqual(first);
  });

  it('holds a timed-out request without keeping close() waiting', async () => {
    await start();
    const id = await newAudience();
    sandbox!.meta.failNext(1, 'timeout'); // held for the default 60 s
    const pending = fetch(`${sandbox!.urlFor('meta')}/v21.0/${id}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(users(emails('a'))) });
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await sandbox!.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });
});

describe('Meta simulator: server', () => {
  it('keeps audiences and members across a restart with a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audsync-sandbox-'));
    try {
      const stateFile = join(dir, 'state', 'sandbox.json');
      await start({ stateFile });
      const id = await newAudience('Kept');
      await call('POST', `/v21.0/${id}/users`, { json: users(emails('a', 'b')) });
      await sandbox!.close();
      expect(await readdir(join(dir, 'state'))).toEqual(['sandbox.json']); // no temp file left behind
      await start({ stateFile });
      expect(sandbox!.meta.audiences()).toEqual([{ id, adAccountId: ACT, name: 'Kept' }]);
      expect(sandbox!.meta.members(id)).toEqual([sha('a@example.com'), sha('b@example.com')].sort());
      expect(await newAudience('Next')).not.toBe(id);
    } finally {
      await sandbox?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts a 20 MB body, answers 413 above the cap, and 404 for an unknown prefix', async () => {
    await start({ maxBodyBytes: 24 * 1024 * 1024 });
    const id = await newAudience();
    const schema = ['EMAIL', 'PHONE', 'FN', 'LN', 'CT', 'ST', 'ZIP', 'COUNTRY', 'DOBY', 'MADID', 'EXTERN_ID'];
    const data = Array.from({ length: 10_000 }, (_, i) => schema.map((key) => (key === 'MADID' || key === 'EXTERN_ID' ? `${key}-${i}` : sha(`${key}${i}`))));
    const json = JSON.stringify({ access_token: SANDBOX_TOKEN, payload: { schema, is_raw: true, data } }, null, 2);
    const big = `{${' '.repeat(20_000_000 - json.length)}${json.slice(1)}`; // JSON whitespace, as a pretty-printing client sends
    expect(big.length).toBe(20_000_000);
    const answer = await fetch(`${sandbox!.urlFor('meta')}/v21.0/${id}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(((await answer.json()) as any).num_received).toBe(10_000);
    const tooBig = await fetch(`${sandbox!.urlFor('meta')}/v21.0/${id}/users`, { method: 'POST', body: 'x'.repeat(25 * 1024 * 1024) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as any).error.code).toBe(100);
    const unknown = await fetch(`${sandbox!.url}/tiktok/v1/whatever`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.message).toContain('no simulator');
  });

  it('handles many concurrent calls', async () => {
    await start();
    const id = await newAudience();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => call(i % 2 ? 'POST' : 'DELETE', `/v21.0/${id}/users`, { json: users(emails(`c${i}`)) })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(sandbox!.meta.members(id)).toHaveLength(100);
  });

  it('listens on loopback only', async () => {
    await expect(startSandbox({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });
});
