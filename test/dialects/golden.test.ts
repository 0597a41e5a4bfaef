// One SQL specification, four dialects: every statement the runner sends for a representative
// model and sync is pinned per dialect in __golden__/<dialect>/<step>.sql (a change to any
// dialect's SQL shows in review), and parsed by node-sql-parser in the engine's own grammar
// (Postgres, BigQuery, Snowflake; it has none for DuckDB, which the SQL tests run for real).
// Known gaps: parser-exceptions.ts (the parser's), builder-issues.ts (the builders').
import sqlParser from 'node-sql-parser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Dialect } from '../../src/warehouse/warehouse.js';
import { BUILDER_ISSUES } from './builder-issues.js';
import { PARSER_EXCEPTIONS, type ParserDatabase, type ParserException } from './parser-exceptions.js';
import { DIALECTS, NOW, statementsFor } from './statements.js';

const PARSER: Partial<Record<Dialect, ParserDatabase>> = { postgres: 'postgresql', bigquery: 'bigquery', snowflake: 'snowflake' };
const parser = new sqlParser.Parser();

let steps: Record<Dialect, Record<string, string[]>>;
beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
  steps = Object.fromEntries(await Promise.all(DIALECTS.map(async (d) => [d, await statementsFor(d)] as const))) as typeof steps;
});
afterAll(() => {
  vi.useRealTimers();
});

function parseError(sql: string, database: ParserDatabase): string | null {
  try {
    parser.astify(sql, { database });
    return null;
  } catch (error) {
    return (error as Error).message.slice(0, 300);
  }
}

describe.each(DIALECTS)('%s', (dialect) => {
  it('pins every statement of a run in __golden__', async () => {
    for (const [step, statements] of Object.entries(steps[dialect])) {
      await expect(`${statements.join(';\n\n')};\n`).toMatchFileSnapshot(`./__golden__/${dialect}/${step}.sql`);
    }
  });

  const database = PARSER[dialect];
  it.skipIf(!database)(`parses every statement as ${database ?? '(no parser for DuckDB)'}, exceptions listed`, () => {
    const failures: string[] = [];
    const used = new Set<ParserException>();
    for (const [step, statements] of Object.entries(steps[dialect])) {
      statements.forEach((sql, i) => {
        const error = parseError(sql, database!);
        const exception = PARSER_EXCEPTIONS.find((e) => e.databases.includes(database!) && e.matches(sql));
        if (exception) {
          used.add(exception);
          if (!error) failures.push(`${step}[${i}]: parses now; remove the exception "${exception.construct}"`);
          const rest = exception.fallback?.(sql);
          const restError = rest === undefined ? null : parseError(rest, database!);
          if (restError) failures.push(`${step}[${i}]: the part outside "${exception.construct}" does not parse: ${restError}`);
        } else if (error) {
          failures.push(`${step}[${i}]: ${error}\n${sql.slice(0, 400)}`);
        }
      });
    }
    expect(failures).toEqual([]);
    const unused = PARSER_EXCEPTIONS.filter((e) => e.databases.includes(database!) && !used.has(e)).map((e) => e.construct);
    expect(unused, 'exceptions no statement needs').toEqual([]);
  });
});

describe('builder SQL that BigQuery or Snowflake would reject (reported; see builder-issues.ts)', () => {
  it('is exactly the known list, each where it is expected', () => {
    const found: string[] = [];
    for (const issue of BUILDER_ISSUES) {
      for (const [step, statements] of Object.entries(steps[issue.dialect])) {
        if (statements.some(issue.found)) found.push(`${issue.dialect} ${issue.id} in ${step}`);
      }
    }
    const expected = BUILDER_ISSUES.flatMap((i) => i.steps.map((step) => `${i.dialect} ${i.id} in ${step}`));
    expect(found.sort()).toEqual(expected.sort());
  });
});
