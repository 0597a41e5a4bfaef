// /users (POST add, DELETE remove) and /usersreplace: the calls a sync makes by the thousand, so the
// only ones where injected faults and latency apply.
import { objectParam } from '../body.js';
import { sleep, type Fault } from '../faults.js';
import type { SimReply } from '../simulator.js';
import { authenticate, authorize, ok, type Exchange, type MetaEnv } from './context.js';
import { invalidParam, invalidToken, throttled, unavailable, unknownObject } from './errors.js';
import { validatePayload } from './payload.js';
import { ScannedRows } from './rows-scan.js';

export async function changeUsers(env: MetaEnv, ex: Exchange, audienceId: string, op: 'add' | 'remove' | 'replace'): Promise<SimReply> {
  ex.entry.op = op;
  ex.params.payload = objectParam(ex.params.payload); // parsed once: it can be megabytes of JSON text
  ex.entry.rows = rowCount(ex.params.payload);
  const audience = env.state.get(audienceId);
  if (audience) ex.account = audience.adAccountId; // so even a fault's answer carries the usage header

  if (env.faults.latencyMs > 0) await sleep(env.faults.latencyMs);
  const fault = env.faults.next(op);
  if (fault) return injected(env, ex, fault);

  authenticate(env, ex);
  if (!audience) throw unknownObject(audienceId, ex.request.method);
  authorize(env, ex, audience.adAccountId, audienceId);

  const payload = validatePayload(ex.params.payload);
  if (env.poisoned.size > 0 && payload.rows().some((row) => row.some((value) => env.poisoned.has(value)))) {
    throw invalidParam('(#100) Invalid parameter');
  }
  const session = readSession(ex.params.session, op === 'replace');
  if (op === 'add') env.state.add(audience, payload);
  else if (op === 'remove') env.state.remove(audience, payload);
  else env.state.replace(audience, session!.id, session!.last, payload);
  env.changed();

  return ok({
    audience_id: audienceId,
    session_id: session?.id ?? env.nextSessionId(),
    num_received: payload.count,
    num_invalid_entries: payload.invalidEntries,
    invalid_entry_samples: {},
  });
}

function injected(env: MetaEnv, ex: Exchange, fault: Fault): SimReply {
  ex.entry.fault = fault.kind;
  switch (fault.kind) {
    case 'reset':
      return { drop: 'reset' };
    case 'timeout':
      return { drop: 'hold', ms: env.faults.timeoutMs };
    case 'error':
      throw unavailable();
    case 'invalid_token':
      throw invalidToken();
    case 'invalid_payload':
      // What Meta answers when a payload breaks a rule: the whole request's rows are refused.
      throw invalidParam('(#100) Invalid parameter');
    case 'throttle':
      ex.usage = { callCount: 100, regainMs: fault.retryAfterMs ?? 0 };
      throw throttled();
  }
}

interface Session {
  id: string;
  last: boolean;
}

/** The client picks the session id; usersreplace needs one, and a last_batch_flag to finish it. */
function readSession(param: unknown, required: boolean): Session | undefined {
  const session = objectParam(param);
  if (session === undefined) {
    if (required) throw invalidParam('The parameter session is required: {"session_id", "batch_seq", "last_batch_flag"}');
    return undefined;
  }
  const { session_id: id, last_batch_flag: last } = (session ?? {}) as Record<string, unknown>;
  if (typeof id !== 'number' && !(typeof id === 'string' && /^\d+$/.test(id))) {
    throw invalidParam('session.session_id must be a number');
  }
  if (last !== undefined && typeof last !== 'boolean') throw invalidParam('session.last_batch_flag must be a boolean');
  return { id: String(id), last: last ?? false };
}

function rowCount(payload: unknown): number {
  const data = payload && typeof payload === 'object' ? (payload as { data?: unknown }).data : undefined;
  if (data instanceof ScannedRows) return data.count;
  return Array.isArray(data) ? data.length : 0;
}
