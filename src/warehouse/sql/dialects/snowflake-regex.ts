// The builders write RE2 patterns (DuckDB, BigQuery). Snowflake's regex functions take POSIX ERE
// with a few Perl escapes (\d \s \w) outside brackets; inside a bracket expression POSIX reads a
// backslash as itself, so `[\s.]` would strip every 's' and '\' from a value. This rewrites a
// pattern into a form that means the same under either reading:
//   - inside brackets: `\s` becomes RE2's whitespace characters themselves (tab, newline, form
//     feed, carriage return, space; RE2's \s has no vertical tab), `\d` becomes 0-9, and an
//     escaped character (`\[`, `\]`, `\-`, `\\`, `\^`) becomes the character itself, placed where
//     POSIX reads it literally (']' first, '-' last, '^' not first); ranges stay ranges.
//   - outside brackets: `\s` becomes a bracket expression of those characters, `\d` becomes [0-9];
//     escaped metacharacters (`\.`, `\+`) are ERE too and stay; `(?:` becomes `(`.
// Anything else with a backslash (\b, \p{...}, \x..) has no POSIX meaning: rejected, so a new
// builder pattern cannot silently match differently on Snowflake.
const RE2_SPACE = '\t\n\f\r ';
const SIMPLE_ESCAPES = new Set(['.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '\\', '/', '-']);

export function toSnowflakeRegex(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '[') {
      const end = bracketEnd(pattern, i);
      out += bracket(pattern.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === 's') out += `[${RE2_SPACE}]`;
      else if (next === 'd') out += '[0-9]';
      else if (next !== undefined && SIMPLE_ESCAPES.has(next)) out += `\\${next}`;
      else throw new Error(`regex escape \\${next ?? ''} has no Snowflake (POSIX) equivalent in ${JSON.stringify(pattern)}`);
      i += 2;
    } else if (pattern.startsWith('(?:', i)) {
      out += '(';
      i += 3;
    } else if (pattern.startsWith('(?', i)) {
      throw new Error(`regex group ${pattern.slice(i, i + 3)} has no Snowflake (POSIX) equivalent in ${JSON.stringify(pattern)}`);
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** Index of the ']' closing the bracket opened at `start`, honouring escapes and a leading ']'. */
function bracketEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i += 1;
  if (pattern[i] === ']') i += 1;
  for (; i < pattern.length; i += 1) {
    if (pattern[i] === '\\') i += 1;
    else if (pattern[i] === ']') return i;
  }
  throw new Error(`unclosed bracket in regex ${JSON.stringify(pattern)}`);
}

/** One bracket expression's body rewritten without backslashes. */
function bracket(body: string): string {
  let negate = '';
  let i = 0;
  if (body[0] === '^') {
    negate = '^';
    i = 1;
  }
  // Items: single characters or ranges, each a code point after escapes are resolved.
  const items: string[] = [];
  let closeBracket = false;
  let dash = false;
  let caret = false;
  const read = (): string => {
    const ch = body[i]!;
    if (ch !== '\\') {
      i += ch.length;
      return ch;
    }
    const next = body[i + 1];
    i += 2;
    if (next === undefined) throw new Error('regex bracket ends in a backslash');
    return next;
  };
  while (i < body.length) {
    if (body[i] === '\\' && (body[i + 1] === 's' || body[i + 1] === 'd')) {
      items.push(body[i + 1] === 's' ? RE2_SPACE : '0-9');
      i += 2;
      continue;
    }
    if (body[i] === '\\' && !SIMPLE_ESCAPES.has(body[i + 1] ?? '')) {
      throw new Error(`regex escape \\${body[i + 1] ?? ''} inside brackets has no Snowflake (POSIX) equivalent`);
    }
    const from = read();
    if (body[i] === '-' && i + 1 < body.length) {
      i += 1;
      const to = read();
      items.push(`${from}-${to}`);
      continue;
    }
    if (from === ']') closeBracket = true;
    else if (from === '-') dash = true;
    else if (from === '^') caret = true;
    else items.push(from);
  }
  // POSIX: ']' only first, '-' only last, '^' anywhere but first.
  const inner = `${closeBracket ? ']' : ''}${items.join('')}`;
  if (caret && inner === '') throw new Error('a bracket holding only ^ has no unambiguous POSIX spelling');
  if (/\[[:.=]/.test(inner)) throw new Error(`regex bracket ${JSON.stringify(body)} would open a POSIX class ([: [. [=)`);
  return `[${negate}${inner}${caret ? '^' : ''}${dash ? '-' : ''}]`;
}
