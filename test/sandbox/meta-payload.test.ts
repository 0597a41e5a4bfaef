// The Meta simulator's payload check takes a quick path per row (hashes joined and decoded at once)
// and falls back to a value-by-value check to name what is wrong. Both must agree with the contract
// checked one value at a time, for every row a client could send.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePayload } from '../../src/sandbox/meta/payload.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PLAIN = new Set(['MADID', 'EXTERN_ID']);

/** The contract read one value at a time: the first bad value's message, or the count of all-empty rows. */
function reference(keys: string[], data: unknown[][]): { invalid: number } | { error: string } {
  let invalid = 0;
  for (const [index, row] of data.entries()) {
    for (const [column, value] of row.entries()) {
      const key = keys[column]!;
      if (typeof value !== 'string') return { error: `Invalid value for schema key ${key} at payload.data[${index}]: values must be strings` };
      if (value !== '' && !PLAIN.has(key) && !SHA256_HEX.test(value)) {
        return { error: `Invalid value for schema key ${key} at payload.data[${index}]: expected an empty string or a SHA-256 hash as 64 lowercase hex characters` };
      }
    }
    if (row.every((value) => value === '')) invalid++;
  }
  return { invalid };
}

function actual(keys: string[], data: unknown[][]): { invalid: number } | { error: string } {
  try {
    return { invalid: validatePayload({ schema: keys, is_raw: true, data }).invalidEntries };
  } catch (error) {
    return { error: (error as { message: string }).message.replace(/^\(#100\) /, '') };
  }
}

const hash = fc.string({ minLength: 1, maxLength: 8 }).map((s) => createHash('sha256').update(s).digest('hex'));
const value = fc.oneof(
  { weight: 8, arbitrary: hash },
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: hash.map((h) => h.toUpperCase()) },
  { weight: 1, arbitrary: hash.map((h) => `${h.slice(0, 10)}G${h.slice(11)}`) },
  { weight: 1, arbitrary: hash.map((h) => h.slice(1)) },
  { weight: 1, arbitrary: hash.map((h) => `${h.slice(0, 63)}é`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 7, ['a']) },
);

describe('Meta simulator: the quick payload check', () => {
  it('accepts and refuses exactly what a value-by-value check does, with the same message', () => {
    const keys = fc.shuffledSubarray(['EMAIL', 'PHONE', 'FN', 'LN', 'ZIP', 'COUNTRY', 'MADID', 'EXTERN_ID'], { minLength: 1 });
    fc.assert(
      fc.property(
        keys.chain((k) => fc.tuple(fc.constant(k), fc.array(fc.array(value, { minLength: k.length, maxLength: k.length }), { minLength: 1, maxLength: 6 }))),
        ([k, data]) => {
          expect(actual(k, data)).toEqual(reference(k, data));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses an uppercase hash among valid ones, naming its key and row', () => {
    const h = createHash('sha256').update('a').digest('hex');
    expect(actual(['EMAIL', 'PHONE'], [[h, h], [h, h.toUpperCase()]])).toEqual({
      error: 'Invalid value for schema key PHONE at payload.data[1]: expected an empty string or a SHA-256 hash as 64 lowercase hex characters',
    });
  });
});
