// Identifier normalization runs lower() and regular expressions in the database. Under a libc
// 'C'/'POSIX' ctype they know ASCII only: 'JOSÉ@x.com' lowercases to 'josÉ@x.com', whose hash
// matches nobody. An ICU database lowercases correctly whatever lc_ctype says, so the check asks
// the database itself what lower() does, and names lc_ctype in the warning.
import type pg from 'pg';

export const LOCALE_PROBE = `SELECT current_setting('lc_ctype') AS ctype, current_setting('server_encoding') AS encoding,
  lower(chr(201)) = chr(233) AS lowers, chr(233) ~ '^[[:alpha:]]$' AS letters`;

interface Probe {
  ctype: string;
  encoding: string;
  lowers: boolean;
  letters: boolean;
}

export async function localeWarnings(connection: pg.Client): Promise<string[]> {
  let probe: Probe | undefined;
  try {
    probe = (await connection.query<Probe>(LOCALE_PROBE)).rows[0];
  } catch {
    return []; // a Postgres-compatible engine without these settings: nothing to say
  }
  if (!probe) return [];
  const warnings: string[] = [];
  if (!/^utf-?8$/i.test(probe.encoding)) {
    warnings.push(
      `the database's encoding is ${probe.encoding}, not UTF8: emails and names outside it cannot be normalized (create the database with ENCODING 'UTF8')`,
    );
  }
  if (!probe.lowers || !probe.letters) {
    warnings.push(
      `the database's lc_ctype is '${probe.ctype}': lower() and [[:alpha:]] handle ASCII letters only, so identifiers with accented or non-Latin letters ` +
        `are normalized differently from the platforms and will not match (create the database with a UTF-8 ctype such as LC_CTYPE 'C.UTF-8', or an ICU locale)`,
    );
  }
  return warnings;
}
