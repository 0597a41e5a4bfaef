// Finds a sync's audience by id or by exact name, creating it by name when asked. Meta allows
// duplicate names, so a name that matches twice is an error rather than a guess.
import type { AudienceRef } from '../../core/manifest.js';
import { FatalError } from '../../core/errors.js';
import type { HttpResponse } from '../http/request.js';
import type { GraphClient } from './client.js';
import { classifyGraphError, isRejection, type ErrorContext } from './errors.js';

const PAGE_SIZE = '100';

export async function resolveAudience(
  client: GraphClient,
  adAccountId: string,
  ref: AudienceRef,
  options: { create: boolean },
): Promise<string | null> {
  if (ref.id) {
    const response = await client.get([ref.id], { fields: 'id,name,approximate_count_lower_bound' });
    check(response, { adAccountId, audienceId: ref.id, secrets: client.secrets });
    return ref.id;
  }
  if (!ref.name) throw new FatalError('an audience needs an id or a name', {}, { hint: 'set audience: { name: ... } or audience: { id: ... } in the sync' });

  const ids = await findByName(client, adAccountId, ref.name);
  if (ids.length > 1) {
    throw new FatalError(`${ids.length} audiences in ${adAccountId} are named '${ref.name}' (ids ${ids.join(', ')})`, {}, {
      hint: `rename all but one in Ads Manager, or use audience: { id: ${ids[0]} } in the sync`,
    });
  }
  if (ids.length === 1) return ids[0]!;
  if (!options.create) return null;

  const response = await client.write('POST', [adAccountId, 'customaudiences'], {
    name: ref.name,
    subtype: 'CUSTOM',
    customer_file_source: 'USER_PROVIDED_ONLY', // required by Meta's customer-list terms: we upload our own customers
    description: 'Managed by audsync',
  });
  const id = (check(response, { adAccountId, secrets: client.secrets }) as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') throw new FatalError(`Meta created audience '${ref.name}' in ${adAccountId} but answered without its id`);
  return id;
}

/** Every audience of the account whose name is exactly `name`, following cursors page by page. */
async function findByName(client: GraphClient, adAccountId: string, name: string): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const query: Record<string, string> = { fields: 'id,name', limit: PAGE_SIZE, ...(after ? { after } : {}) };
    const page = check(await client.get([adAccountId, 'customaudiences'], query), { adAccountId, secrets: client.secrets }) as {
      data?: { id?: unknown; name?: unknown }[];
      paging?: { cursors?: { after?: unknown }; next?: unknown };
    };
    if (!Array.isArray(page.data)) throw new FatalError(`Meta answered the audience list of ${adAccountId} without data`);
    for (const audience of page.data) {
      if (audience.name === name && typeof audience.id === 'string') ids.push(audience.id);
    }
    const next = page.paging?.cursors?.after;
    // `next` is present only when there are more pages; a repeated cursor would loop forever.
    if (!page.paging?.next || typeof next !== 'string' || seen.has(next)) return ids;
    seen.add(next);
    after = next;
  }
}

/** The body of a 2xx answer; anything else becomes the classified error. */
function check(response: HttpResponse, ctx: ErrorContext): unknown {
  if (response.status >= 200 && response.status < 300) {
    if (response.body === undefined) throw new FatalError(`Meta answered HTTP ${response.status} without a JSON body`, { status: response.status });
    return response.body;
  }
  const failure = classifyGraphError(response, ctx);
  // An invalid request while resolving is our bug or a bad name; retrying cannot fix it.
  if (isRejection(failure)) throw new FatalError(`Meta refused the audience request for ${ctx.adAccountId}: ${failure.reason}`, { status: response.status, code: failure.code });
  throw failure;
}
