// The SQL added for dead letters, locks and recovery, in the form the runner sends it (max_attempts
// set, the retries table joined, a stopped run, the heartbeat, interrupted runs), parsed in each
// engine's grammar by node-sql-parser, with the golden test's known parser exceptions. The golden
// files pin the builders without max_attempts; DuckDB and Postgres run all of this for real in the
// dead-letter and lock tests.
import sqlParser from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { startHeartbeat } from '../../src/runner/lock.js';
import { closeInterruptedRunsSql, markSendingSql, uncertainRunsSql } from '../../src/runner/recovery.js';
import { commitSql, newDeadLettersSql } from '../../src/warehouse/sql/commit.js';
import { deltaCountsSql, deltaSql, type SyncSqlSpec } from '../../src/warehouse/sql/delta.js';
import { partsSql } from '../../src/warehouse/sql/parts.js';
import { sqlDialect } from '../../src/warehouse/sql/dialect.js';
import { stateTables } from '../../src/warehouse/sql/names.js';
import { memberResultsSql } from '../../src/warehouse/sql/outcome.js';
import type { Dialect, Warehouse } from '../../src/warehouse/warehouse.js';
import { PARSER_EXCEPTIONS, type ParserDatabase } from '../dialects/parser-exceptions.js';
import { CATALOG, spec as goldenSpec } from '../dialects/statements.js';

const PARSER: [Dialect, ParserDatabase][] = [
  ['postgres', 'postgresql'],
  ['bigquery', 'bigquery'],
  ['snowflake', 'snowflake'],
];
const parser = new sqlParser.Parser();
const spec: SyncSqlSpec = { ...goldenSpec, maxAttempts: 5 };

function parseProblem(sql: string, database: ParserDatabase): string | null {
  const exception = PARSER_EXCEPTIONS.find((e) => e.databases.includes(database) && e.matches(sql));
  const text = exception ? exception.fallback?.(sql) : sql;
  if (text === undefined) return null;
  try {
    parser.astify(text, { database });
    return null;
  } catch (error) {
    return `${(error as Error).message.slice(0, 200)}\n${text.slice(0, 600)}`;
  }
}

async function heartbeatSql(dialect: Dialect): Promise<string> {
  const d = sqlDialect(dialect);
  const t = stateTables(d, 'audsync', CATALOG[dialect]);
  const sent: string[] = [];
  const wh = { executeAside: async (sql: string) => void sent.push(sql) } as unknown as Warehouse;
  const beat = startHeartbeat(wh, d, t, spec.syncId, 'run-1', silentLogger, { heartbeatMs: 1 })!;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await beat.stop();
  return sent[0]!;
}

describe.each(PARSER)('%s', (dialect, database) => {
  it('parses the dead-letter delta, parts, counts, results and commit, and the lock statements', async () => {
    const d = sqlDialect(dialect);
    const t = stateTables(d, 'audsync', CATALOG[dialect]);
    const commit = { runId: 'run-1', nowIso: '2026-03-01T10:00:00.000Z', destination: 'meta', platform: 'meta_custom_audiences', audienceId: '1' };
    const delta = deltaSql(d, spec, t.snapshots, t.retries);
    expect(delta).toContain('attempts >= 5');
    const statements = [
      delta,
      partsSql(d, spec, t.snapshots),
      deltaCountsSql(d, spec),
      memberResultsSql(d, spec, t.deliveries, 'run-1', 'not sent'),
      newDeadLettersSql(d, spec, t),
      ...commitSql(d, spec, t, commit),
      ...commitSql(d, spec, t, { ...commit, stopped: true }),
      closeInterruptedRunsSql(d, t, spec.syncId, 'run-1', commit.nowIso),
      markSendingSql(d, t, 'run-1'),
      uncertainRunsSql(d, t, spec.syncId),
      await heartbeatSql(dialect),
    ];
    expect(statements.join('\n')).toContain("'dead'");
    expect(statements.join('\n')).toContain('least(ch.attempt, 4)');
    const problems = statements.map((sql) => parseProblem(sql, database)).filter((p) => p !== null);
    expect(problems).toEqual([]);
  });
});
