// The Meta simulator reads a /users body's rows from its bytes (rows-scan.ts) instead of parsing them
// into objects. It must decide exactly as JSON.parse and the value-by-value check do, for any body:
// the same rows, counts and refusals, with the same message.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseParams } from '../../src/sandbox/body.js';
import { validatePayload, type ValidPayload } from '../../src/sandbox/meta/payload.js';
import { bodyParams, ROWS_PLACEHOLDER, ScannedRows } from '../../src/sandbox/meta/rows-scan.js';

type Outcome = { count: number; invalid: number; nonEmpty: number[]; rows: string[][] } | { error: string };

function outcome(read: () => ValidPayload): Outcome {
  try {
    const v = read();
    return { count: v.count, invalid: v.invalidEntries, nonEmpty: v.nonEmpty, rows: v.rows() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const JSON_TYPE = 'application/json';
/** What the simulator does with a body. */
const scanned = (body: Buffer) => outcome(() => validatePayload(bodyParams(body, JSON_TYPE).payload));
/** The whole body through JSON.parse (body.ts), as before the scan. */
const parsed = (body: Buffer) => outcome(() => validatePayload(parseParams(body, JSON_TYPE).payload));
function tookScan(body: Buffer): boolean {
  try {
    return (bodyParams(body, JSON_TYPE).payload as { data?: unknown } | undefined)?.data instanceof ScannedRows;
  } catch {
    return false;
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const body = (payload: unknown, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ access_token: 't', ...extra, payload }));

describe('Meta simulator: rows scanned from the body', () => {
  it('reads a client body without parsing it whole, and counts what a parse would', () => {
    const data = [
      [sha('a'), sha('1'), ''],
      ['', '', ''],
      [sha('b'), '', 'MADID-1'],
    ];
    const b = body({ schema: ['EMAIL', 'PHONE', 'MADID'], is_raw: true, data });
    expect(tookScan(b)).toBe(true);
    expect(scanned(b)).toEqual({ count: 3, invalid: 1, nonEmpty: [2, 1, 1], rows: data });
    expect(scanned(b)).toEqual(parsed(b));
  });

  it('refuses what the value-by-value check refuses, naming the same row and key', () => {
    const data = [[sha('a'), sha('1')], [sha('b').toUpperCase(), sha('2')]];
    const b = body({ schema: ['EMAIL', 'PHONE'], is_raw: true, data });
    expect(tookScan(b)).toBe(true); // scanned, then checked value by value to name the fault
    expect(scanned(b)).toEqual({ error: '(#100) Invalid value for schema key EMAIL at payload.data[1]: expected an empty string or a SHA-256 hash as 64 lowercase hex characters' });
    expect(parsed(b)).toEqual(scanned(b));
    const ragged = body({ schema: ['EMAIL', 'PHONE'], is_raw: true, data: [[sha('a'), sha('1')], [sha('b')]] });
    expect(scanned(ragged)).toEqual({ error: '(#100) payload.data[1] must be an array of 2 value(s), one per schema key' });
    const tooMany = body({ schema: 'EMAIL_SHA256', data: Array.from({ length: 10_001 }, () => [sha('a')]) });
    expect(tookScan(tooMany)).toBe(true);
    expect(scanned(tooMany)).toEqual(parsed(tooMany));
    expect((scanned(tooMany) as { error: string }).error).toMatch(/^\(#105\) /);
  });

  it('leaves to JSON.parse what is not in the plainest form, and what another "data" key could change', () => {
    const rows = [[sha('a')]];
    const cases: [string, Buffer][] = [
      ['whitespace', Buffer.from(JSON.stringify({ payload: { schema: ['EMAIL'], is_raw: true, data: rows } }, null, 1))],
      ['an escape', body({ schema: ['EXTERN_ID'], is_raw: true, data: [['a"b']] })],
      ['non-ASCII', body({ schema: ['EXTERN_ID'], is_raw: true, data: [['é']] })],
      ['bare values', body({ schema: 'EMAIL_SHA256', data: [sha('a')] })],
      ['a second data key, later', Buffer.from(`{"payload":{"schema":["EMAIL"],"is_raw":true,"data":[["${sha('a')}"]],"data":[["${sha('b')}"]]}}`)],
      ['a second data key, spaced', Buffer.from(`{"payload":{"schema":["EMAIL"],"is_raw":true,"data":[["${sha('a')}"]],"data" : [["${sha('b')}"]]}}`)],
      ['data outside the payload', body({ schema: ['EMAIL'], is_raw: true, data: [['']] }, { other: { data: rows } })],
      ['the placeholder sent as data', body({ schema: ['EMAIL'], is_raw: true, data: ROWS_PLACEHOLDER }, { other: { data: rows } })],
      ['a payload repeated', Buffer.from(`{"payload":{"schema":["EMAIL"],"is_raw":true,"data":[["${sha('a')}"]]},"payload":{"schema":["EMAIL"],"is_raw":true}}`)],
      ['invalid JSON after the rows', Buffer.from(`{"payload":{"schema":["EMAIL"],"is_raw":true,"data":[["${sha('a')}"]]},}`)],
      ['empty data', body({ schema: ['EMAIL'], is_raw: true, data: [] })],
      ['a truncated body', Buffer.from(`{"payload":{"schema":["EMAIL"],"is_raw":true,"data":[["${sha('a')}`)],
    ];
    for (const [name, b] of cases) {
      expect(tookScan(b), name).toBe(false);
      expect(scanned(b), name).toEqual(parsed(b));
    }
  });

  it('agrees with JSON.parse for any body a client could send', () => {
    const hash = fc.string({ minLength: 1, maxLength: 6 }).map(sha);
    const value = fc.oneof(
      { weight: 10, arbitrary: hash },
      { weight: 4, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: hash.map((h) => h.toUpperCase()) },
      { weight: 1, arbitrary: hash.map((h) => h.slice(1)) },
      { weight: 1, arbitrary: hash.map((h) => `${h.slice(0, 63)}g`) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 7, true, ['x'], { a: 1 }) },
    );
    const keys = fc.shuffledSubarray(['EMAIL', 'PHONE', 'FN', 'LN', 'ZIP', 'COUNTRY', 'MADID', 'EXTERN_ID'], { minLength: 1 });
    const payload = keys.chain((k) =>
      fc.record({
        schema: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>(k) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('EMAIL_SHA256', 'BOGUS', []) }),
        is_raw: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>(true) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(false, undefined, 'true') }),
        data: fc.oneof(
          { weight: 8, arbitrary: fc.array(fc.array(value, { minLength: k.length, maxLength: k.length }), { minLength: 1, maxLength: 5 }) },
          { weight: 1, arbitrary: fc.array(fc.array(value, { maxLength: k.length + 1 }), { maxLength: 4 }) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 'rows', {}, [[]]) },
        ),
      }),
    );
    fc.assert(
      fc.property(payload, (p) => {
        const b = body(p);
        expect(scanned(b)).toEqual(parsed(b));
      }),
      { numRuns: 3000 },
    );
  });
});
