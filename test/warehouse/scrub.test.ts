import { describe, expect, it } from 'vitest';
import { scrubEngineMessage } from '../../src/warehouse/scrub.js';

describe('engine messages are scrubbed of row data', () => {
  it("drops DuckDB's quoted CSV line and the value it could not convert, keeping the column and type", () => {
    const message =
      'Conversion Error: CSV Error on Line: 2\nOriginal Line: K1," Jane.Doe@Example.COM ",maybe\n' +
      'Error when converting column "ads_consent". Could not convert string "maybe" to \'BOOLEAN\'';
    expect(scrubEngineMessage(message, 'SELECT ads_consent FROM t')).toBe(
      'Conversion Error: CSV Error on Line: 2\n[source line omitted]\n' +
        'Error when converting column "ads_consent". Could not convert string "…" to \'BOOLEAN\'',
    );
  });

  it('keeps names that appear in the SQL that ran, so a typo in a query stays visible', () => {
    const message = 'Binder Error: Referenced column "emial" not found in FROM clause! Candidate bindings: "email"';
    expect(scrubEngineMessage(message, 'SELECT emial FROM (SELECT email FROM t)')).toBe(message);
  });

  it('masks emails and phone numbers anywhere, and Postgres failing-row details', () => {
    expect(scrubEngineMessage('bad value bob@example.com near +1 (415) 555-0134', 'SELECT 1')).toBe('bad value [email] near [number]');
    expect(scrubEngineMessage('DETAIL: Failing row contains (K1, bob, 2026-01-01).', 'INSERT')).toBe('DETAIL: Failing row contains (…).');
  });
});
