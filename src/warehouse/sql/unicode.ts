// Unicode general categories outside ASCII as the body of a regex bracket expression (ranges of the
// characters themselves), for engines whose regexes have no \p{...} (Postgres, Snowflake) and for
// classes every engine must read alike. ASCII is left to the callers' own classes, which spell it
// out (PUNCT, [0-9]): its punctuation includes the characters brackets give a meaning to ('\', ']',
// '-', '^'), which engines escape differently. The Basic Multilingual Plane only: a character
// outside it is two UTF-16 units to some regex engines (and to the Snowflake rewrite), so a range of
// them would not mean the same everywhere; the scripts CRM names are written in are inside it.
// Built from this Node.js's Unicode tables, once, on first use (a few ms), never at startup.
const cache = new Map<string, string>();

export function categoryClass(category: 'P' | 'N'): string {
  let body = cache.get(category);
  if (body !== undefined) return body;
  const test = new RegExp(`^\\p{${category}}$`, 'u');
  const parts: string[] = [];
  let start = -1;
  const close = (end: number) => {
    const [from, to] = [String.fromCharCode(start), String.fromCharCode(end)];
    parts.push(end === start ? from : end === start + 1 ? from + to : `${from}-${to}`);
    start = -1;
  };
  for (let cp = 0x80; cp <= 0xffff; cp++) {
    const inside = (cp < 0xd800 || cp > 0xdfff) && test.test(String.fromCharCode(cp));
    if (inside && start < 0) start = cp;
    if (!inside && start >= 0) close(cp - 1);
  }
  if (start >= 0) close(0xffff);
  body = parts.join('');
  cache.set(category, body);
  return body;
}
