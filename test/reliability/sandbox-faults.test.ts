// Faults set from the environment (AUDSYNC_SANDBOX_FAULTS) reach every simulator, through
// startSandbox and `audsync sandbox`; a value that cannot be read is a usage error naming the key.
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { FAULTS_ENV, faultsFromEnv } from '../../src/sandbox/faults.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { spawnCli, waitFor } from './helpers.js';

const env = (value: string) => ({ [FAULTS_ENV]: value });

describe('faultsFromEnv', () => {
  it('reads key=value pairs, JSON with the same keys, and JSON with FaultOptions names', () => {
    expect(faultsFromEnv(env('error=0.1,throttle=0.1,reset=0.05,timeout=0.05,latency=20,seed=7'))).toEqual({
      errorRate: 0.1,
      throttleRate: 0.1,
      resetRate: 0.05,
      timeoutRate: 0.05,
      latencyMs: 20,
      seed: 7,
    });
    expect(faultsFromEnv(env(' error = 0.3 , timeout_ms=250 '))).toEqual({ errorRate: 0.3, timeoutMs: 250 });
    expect(faultsFromEnv(env('{"throttle": 0.2, "latency": 5}'))).toEqual({ throttleRate: 0.2, latencyMs: 5 });
    expect(faultsFromEnv(env('{"errorRate": 0.2, "seed": 3}'))).toEqual({ errorRate: 0.2, seed: 3 });
    expect(faultsFromEnv({})).toBeUndefined();
    expect(faultsFromEnv(env('  '))).toBeUndefined();
  });

  it.each([
    ['errors=0.1', /AUDSYNC_SANDBOX_FAULTS: unknown key 'errors'/],
    ['error=lots', /'error' must be a number, not 'lots'/],
    ['error', /'error' is not key=value/],
    ['error=1.5', /errorRate must be between 0 and 1/],
    ['error=0.6,throttle=0.6', /fault rates must add up to at most 1/],
    ['latency=-5', /latency must be 0 or more milliseconds/],
    ['{"error": "0.1"}', /'error' must be a number/],
    ['{error: 0.1}', /not valid JSON/],
  ])('%s is refused with a message naming the variable and the key', (value, message) => {
    let error: unknown;
    try {
      faultsFromEnv(env(value));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^AUDSYNC_SANDBOX_FAULTS: /);
    expect((error as Error).message).toMatch(message);
    expect((error as UsageError).hint).toMatch(/error=0\.1,throttle=0\.1/);
  });
});

describe('startSandbox reads AUDSYNC_SANDBOX_FAULTS for every simulator', () => {
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('Meta and Google bulk endpoints answer with their own 5xx; explicit options win over the environment', async () => {
    sandbox = await startSandbox({ env: env('error=1') });
    const meta = await fetch(`${sandbox.urlFor('meta')}/v21.0/123/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(meta.status).toBe(500);
    expect(((await meta.json()) as { error: { code: number } }).error.code).toBe(2);
    const google = await fetch(`${sandbox.urlFor('google')}/v1/audienceMembers:ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(google.status).toBe(503);
    expect(sandbox.meta.requests.at(-1)).toMatchObject({ op: 'add', fault: 'error' });
    expect(sandbox.google.requests.at(-1)).toMatchObject({ fault: 'error' });
    await sandbox.close();

    sandbox = await startSandbox({ env: env('error=1'), faults: {} });
    const calm = await fetch(`${sandbox.urlFor('meta')}/v21.0/123/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(calm.status).toBe(400); // reaches validation: no token
  });

  it('a seed repeats the same faults; latency delays every bulk answer', async () => {
    const outcomes = async () => {
      const s = await startSandbox({ env: env('error=0.3,throttle=0.2,seed=11,latency=30') });
      const statuses: number[] = [];
      const started = Date.now();
      for (let i = 0; i < 12; i++) {
        const r = await fetch(`${s.urlFor('meta')}/v21.0/123/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        statuses.push(r.status);
      }
      const elapsed = Date.now() - started;
      await s.close();
      return { statuses, elapsed };
    };
    const a = await outcomes();
    const b = await outcomes();
    expect(a.statuses).toEqual(b.statuses);
    expect(new Set(a.statuses).size).toBeGreaterThan(1);
    expect(a.elapsed).toBeGreaterThanOrEqual(12 * 30);
  });
});

describe('audsync sandbox', () => {
  it('says which faults it injects; an unreadable value exits 2 with the key named and no stack trace', async () => {
    const running = spawnCli('.', { ...process.env, [FAULTS_ENV]: 'error=0.25,seed=3' }, ['sandbox', '--port', '0']);
    let out = '';
    running.child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('the sandbox banner', () => (out.includes('faults from') ? true : undefined), 20_000);
    expect(out).toMatch(/faults from AUDSYNC_SANDBOX_FAULTS: \{"errorRate":0\.25,"seed":3\}/);
    expect(out).toMatch(/google_customer_match: api_base_url: http:\/\/127\.0\.0\.1:\d+\/google/);
    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(0);

    const bad = await spawnCli('.', { ...process.env, [FAULTS_ENV]: 'eror=0.25' }, ['sandbox', '--port', '0']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: AUDSYNC_SANDBOX_FAULTS: unknown key 'eror'\nhint: set it like/);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
