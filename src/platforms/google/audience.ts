// A Google sync names its user list by id. Neither flow audsync uses can look a list up by name
// (the OfflineUserDataJob flow needs the id; creating lists is left to the Google Ads UI), so a
// name is refused with the place to find the id.
import type { AudienceRef } from '../../core/manifest.js';
import { FatalError } from '../../core/errors.js';

export function userListId(ref: AudienceRef, customerId: string): string {
  const hint = `set audience: { id: "<user list id>" } in the sync: the ID column of the Customer Match list in Google Ads for customer ${customerId} (Tools > Shared library > Audience manager)`;
  if (ref.id !== undefined) {
    if (/^\d{1,19}$/.test(ref.id)) return ref.id;
    throw new FatalError(`'${ref.id.slice(0, 40)}' is not a Google user list id (digits only)`, {}, { hint });
  }
  if (ref.name !== undefined) throw new FatalError(`Google Customer Match needs the user list id, not a name ('${ref.name.slice(0, 80)}')`, {}, { hint });
  throw new FatalError('a Google sync needs its user list id', {}, { hint });
}

/** Google's full refresh is removeAll then adds (capabilities.replace 'remove-all'), never a replace session. */
export const REPLACE_UNSUPPORTED = "Google takes no 'replace' batches: a full refresh is removeAll(audienceId) followed by the adds";
