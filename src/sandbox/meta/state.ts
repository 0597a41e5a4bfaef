// Audiences and what they hold. Meta keeps matched people, which we cannot model without Meta's
// user graph, so an audience holds one set of values per schema key (EMAIL -> hashes): an add row
// adds its non-empty values, a remove row removes them. That is enough to check convergence.
import type { ValidPayload } from './payload.js';

export interface MetaAudience {
  id: string;
  adAccountId: string;
  name: string;
  description?: string;
  customerFileSource?: string;
  members: Map<string, Set<string>>;
  /** Count-only mode (benchmarks): values received per schema key, adds minus removes, not distinct. */
  counts?: Map<string, number>;
}

interface SavedAudience {
  id: string;
  adAccountId: string;
  name: string;
  description?: string;
  customerFileSource?: string;
  members: Record<string, string[]>;
}

interface SavedState {
  nextId: string;
  audiences: SavedAudience[];
}

interface ReplaceSession {
  sessionId: string;
  staged: Map<string, Set<string>>;
  counts?: Map<string, number>; // countOnly
}

// Ids are numeric strings like Meta's, and deterministic so tests and demos read the same each run.
// They exceed 2^53, hence bigint.
const FIRST_ID = 23850000000000001n;

export class MetaState {
  private readonly byId = new Map<string, MetaAudience>();
  private readonly replaceSessions = new Map<string, ReplaceSession>();
  private nextId = FIRST_ID;

  /**
   * countOnly: audiences count the values they receive instead of keeping them, so a benchmark can
   * send ten million members without the simulator holding gigabytes of hashes. members() is then
   * empty and the approximate count is the largest key's count.
   */
  constructor(private readonly options: { countOnly?: boolean } = {}) {}

  create(fields: Omit<MetaAudience, 'id' | 'members'>): MetaAudience {
    const audience: MetaAudience = { ...fields, id: String(this.nextId++), members: new Map() };
    this.byId.set(audience.id, audience);
    return audience;
  }

  get(id: string): MetaAudience | undefined {
    return this.byId.get(id);
  }

  /** Creation order, which is also id order. */
  all(): MetaAudience[] {
    return [...this.byId.values()];
  }

  add(audience: MetaAudience, payload: ValidPayload): void {
    if (this.options.countOnly) return countRows((audience.counts ??= new Map()), payload, 1);
    addRows(audience.members, payload);
  }

  remove(audience: MetaAudience, payload: ValidPayload): void {
    if (this.options.countOnly) return countRows((audience.counts ??= new Map()), payload, -1);
    const { keys } = payload;
    for (const row of payload.rows()) {
      row.forEach((value, i) => {
        if (value !== '') audience.members.get(keys[i]!)?.delete(value);
      });
    }
  }

  /**
   * usersreplace: batches of one session are staged; the last batch swaps them in, so the audience
   * never shrinks to a half-uploaded list. A new session id drops an unfinished one.
   */
  replace(audience: MetaAudience, sessionId: string, last: boolean, payload: ValidPayload): void {
    let session = this.replaceSessions.get(audience.id);
    if (!session || session.sessionId !== sessionId) {
      session = { sessionId, staged: new Map() };
      this.replaceSessions.set(audience.id, session);
    }
    if (this.options.countOnly) countRows((session.counts ??= new Map()), payload, 1);
    else addRows(session.staged, payload);
    if (last) {
      if (this.options.countOnly) audience.counts = session.counts ?? new Map();
      else audience.members = session.staged;
      this.replaceSessions.delete(audience.id);
    }
  }

  /** Meta reports a lower bound; we report the largest key's set, which is what a perfect match would give. */
  approximateCount(audience: MetaAudience): number {
    let max = 0;
    for (const n of audience.counts?.values() ?? []) max = Math.max(max, n);
    for (const values of audience.members.values()) max = Math.max(max, values.size);
    return max;
  }

  clear(): void {
    this.byId.clear();
    this.replaceSessions.clear();
    this.nextId = FIRST_ID;
  }

  snapshot(): SavedState {
    return {
      nextId: String(this.nextId),
      audiences: this.all().map(({ members, ...rest }) => ({
        ...rest,
        members: Object.fromEntries([...members].map(([key, values]) => [key, [...values]])),
      })),
    };
  }

  restore(saved: unknown): void {
    const state = saved as Partial<SavedState>;
    if (!state || typeof state.nextId !== 'string' || !Array.isArray(state.audiences)) {
      throw new Error('the saved Meta sandbox state has an unknown format');
    }
    this.clear();
    this.nextId = BigInt(state.nextId);
    for (const { members, ...rest } of state.audiences) {
      const sets = new Map(Object.entries(members ?? {}).map(([key, values]) => [key, new Set(values)]));
      this.byId.set(rest.id, { ...rest, members: sets });
    }
  }
}

function addRows(target: Map<string, Set<string>>, { keys, rows }: ValidPayload): void {
  for (const row of rows()) {
    row.forEach((value, i) => {
      if (value === '') return;
      const key = keys[i]!;
      let values = target.get(key);
      if (!values) target.set(key, (values = new Set()));
      values.add(value);
    });
  }
}

function countRows(counts: Map<string, number>, { keys, nonEmpty }: ValidPayload, sign: 1 | -1): void {
  keys.forEach((key, i) => counts.set(key, Math.max(0, (counts.get(key) ?? 0) + sign * nonEmpty[i]!)));
}
