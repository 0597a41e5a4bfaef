// Meta answers each upload with how many rows it received and how many it found invalid (and a
// session id). Summed per audience and op, they become the platform report of a sync's run.
import type { DeliveryOp, PlatformReport } from '../platform.js';

interface Totals {
  received: number;
  invalid: number;
  requests: number;
  sessions: Set<string>;
}

export class SessionCounts {
  private readonly totals = new Map<string, Totals>();

  record(audienceId: string, op: DeliveryOp, body: unknown): void {
    const answer = (body ?? {}) as { num_received?: unknown; num_invalid_entries?: unknown; session_id?: unknown };
    const key = `${audienceId}:${op}`;
    const t = this.totals.get(key) ?? { received: 0, invalid: 0, requests: 0, sessions: new Set<string>() };
    t.received += Number(answer.num_received ?? 0) || 0;
    t.invalid += Number(answer.num_invalid_entries ?? 0) || 0;
    t.requests += 1;
    if (answer.session_id !== undefined) t.sessions.add(String(answer.session_id));
    this.totals.set(key, t);
  }

  report(audienceId: string, op: DeliveryOp): PlatformReport | undefined {
    const key = `${audienceId}:${op}`;
    const t = this.totals.get(key);
    if (!t) return undefined;
    this.totals.delete(key);
    const sessions = [...t.sessions];
    return {
      kind: op === 'replace' ? 'meta_replace_session' : 'meta_upload',
      reference: sessions.length === 1 ? sessions[0]! : `${sessions.length} sessions`,
      status: 'received', // Meta applies changes within about 24 hours; matched counts come later
      details: { op, requests: t.requests, num_received: t.received, num_invalid_entries: t.invalid },
    };
  }
}
