// A model's SQL goes inside a subquery, so a statement terminator at its end must go: the last ';'
// that stands outside string literals, quoted names and comments, when only whitespace and comments
// follow it. A small scanner rather than a regex, because ';' and '--' are ordinary characters inside
// 'a;--b', "a;b" and $$a;--b$$.
export function stripTrailingTerminator(sql: string): string {
  let lastSemicolon = -1;
  let afterIsTrivia = true;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
      afterIsTrivia = false;
      continue;
    }
    if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? sql.length : end + tag.length;
        afterIsTrivia = false;
        continue;
      }
    }
    if (c === ';') {
      lastSemicolon = i;
      afterIsTrivia = true;
    } else if (!/\s/.test(c)) {
      afterIsTrivia = false;
    }
    i++;
  }
  const body = lastSemicolon >= 0 && afterIsTrivia ? sql.slice(0, lastSemicolon) : sql;
  // Several terminators in a row ('SELECT 1;;') go too.
  return body !== sql ? stripTrailingTerminator(body.trimEnd()) : sql.trimEnd();
}

/** Index just past a quoted run starting at `start`; a doubled quote is an escaped one. */
function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}
