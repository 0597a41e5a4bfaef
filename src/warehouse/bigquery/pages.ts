// Query results page by page: one page in memory at a time, whatever the size of the result.
// BigQuery answers "not complete yet" (after waiting server-side) until the job is done; those
// answers carry no rows and are asked again with the same token.

export interface Page<T> {
  rows: T[];
  /** False while the job still runs. */
  complete: boolean;
  /** Token of the next page; absent on the last. */
  next?: string;
}

export type PageSource<T> = (token: string | undefined) => Promise<Page<T>>;

export async function* pages<T>(fetch: PageSource<T>): AsyncIterable<T[]> {
  let token: string | undefined;
  for (;;) {
    const page = await fetch(token);
    if (!page.complete) continue;
    if (page.rows.length > 0) yield page.rows;
    if (!page.next) return;
    token = page.next;
  }
}
