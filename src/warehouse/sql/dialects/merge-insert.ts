// insertIgnore for engines without ON CONFLICT (BigQuery, Snowflake): a MERGE that inserts the rows
// whose key is absent. MERGE statements on one table are serialized by both engines, so two runs
// racing for a lock row cannot both insert it (two INSERT ... WHERE NOT EXISTS could).
//
// Two things the SqlDialect.insertIgnore signature does not pass, and how they are found:
// - The conflict keys: these engines do not enforce PRIMARY KEY, so the keys come from the
//   PRIMARY KEY declarations of the state tables in migrations.ts, the one place they are written.
//   `keys` overrides that (for when the interface passes them).
// - Names for the select's columns (it may be `SELECT 'a', 'b'`): the source is the UNION ALL of
//   the target's own columns with LIMIT 0 and the select, so the first branch names and types them.
import type { SqlDialect } from '../dialect.js';
import { migrations, migrationsTableSql } from '../migrations.js';

export function mergeInsertIgnore(d: SqlDialect, table: string, columns: string[], select: string, keys?: string[]): string {
  const on = keys ?? primaryKeyOf(d, table);
  const q = d.quoteIdent;
  const cols = columns.map(q).join(', ');
  return `MERGE INTO ${table} AS t
USING (
  (SELECT ${cols} FROM ${table} LIMIT 0)
  UNION ALL
  (${select})
) AS s
ON ${on.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ')}
WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${columns.map((c) => `s.${q(c)}`).join(', ')})`;
}

/** The PRIMARY KEY of a state table, as migrations.ts declares it; `table` may be qualified and quoted. */
export function primaryKeyOf(d: SqlDialect, table: string): string[] {
  const name = unquote(table.split('.').pop() ?? table);
  const keys = declaredKeys(d).get(name);
  if (!keys) {
    throw new Error(`insertIgnore into ${table}: ${d.name} has no ON CONFLICT and no PRIMARY KEY is declared for ${name} in migrations.ts`);
  }
  return keys;
}

const cache = new Map<string, Map<string, string[]>>();

function declaredKeys(d: SqlDialect): Map<string, string[]> {
  let keys = cache.get(d.name);
  if (keys) return keys;
  keys = new Map();
  const ddl = [...migrationsTableSql(d, 'audsync'), ...migrations.flatMap((m) => m.statements(d, 'audsync'))];
  for (const statement of ddl) {
    const head = /^CREATE TABLE (?:IF NOT EXISTS )?(\S+)\s*\(/.exec(statement);
    if (!head) continue;
    const table = unquote(head[1]!.split('.').pop()!);
    const tableLevel = /PRIMARY KEY\s*\(([^)]*)\)/.exec(statement);
    if (tableLevel) {
      keys.set(table, tableLevel[1]!.split(',').map((k) => unquote(k.trim())));
      continue;
    }
    const columnLevel = /^\s*(\S+)\s[^\n]*\bPRIMARY KEY\b/m.exec(statement.slice(head[0].length));
    if (columnLevel) keys.set(table, [unquote(columnLevel[1]!)]);
  }
  cache.set(d.name, keys);
  return keys;
}

function unquote(name: string): string {
  return /^["`].*["`]$/.test(name) ? name.slice(1, -1) : name;
}
