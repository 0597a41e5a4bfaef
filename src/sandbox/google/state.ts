// User lists and what they hold, Data Manager requests and Google Ads jobs. Google keeps matched
// people, which we cannot model without its user graph, so a list holds one set per identifier
// type (email hashes, phone hashes, address keys), each value with the time it was last added:
// enough to check convergence and to honour removeAll's "added before" time.
import { randomUUID } from 'node:crypto';

export type IdentifierType = 'email' | 'phone' | 'address';
export const IDENTIFIER_TYPES: IdentifierType[] = ['email', 'phone', 'address'];
export type ListType = 'CRM_BASED' | 'RULE_BASED';

export interface UserList {
  id: string;
  customerId: string;
  name: string;
  type: ListType;
  members: Record<IdentifierType, Map<string, number>>;
}

/** One identifier as stored: the type and its key (hex hash, or the address's four parts joined by '|'). */
export interface StoredIdentifier {
  type: IdentifierType;
  key: string;
}

export type DmOp = 'ingest' | 'remove' | 'remove_all';

export interface DmRequest {
  id: string;
  op: DmOp;
  createdAt: number;
  readyAt: number;
  destinations: { customerId: string; listId: string; loginAccountId?: string }[];
  recordCount: number;
  identifierCount: number;
}

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAILED';

export type StagedOp = { kind: 'create' | 'remove'; identifiers: StoredIdentifier[] } | { kind: 'removeAll' };

export interface Job {
  id: string;
  customerId: string;
  listId: string;
  status: JobStatus;
  consent?: Record<string, string>;
  /** Operations added and not yet run (not persisted: a restarted sandbox forgets unrun jobs' operations). */
  staged: StagedOp[];
  readyAt?: number;
  counts: { creates: number; removes: number; removeAll: boolean };
}

const MAX_REQUESTS = 10_000; // request and job records kept for status calls
const FIRST_LIST_ID = 7_000_000_001;
const FIRST_JOB_ID = 9_000_000_001;

export class GoogleState {
  readonly lists = new Map<string, UserList>();
  readonly requests = new Map<string, DmRequest>();
  readonly jobs = new Map<string, Job>();
  /** The consent an identifier last arrived with, per list (tests read it; not persisted). */
  readonly consent = new Map<string, unknown>();
  private nextListId = FIRST_LIST_ID;
  private nextJobId = FIRST_JOB_ID;

  createList(fields: { customerId: string; id?: string; name?: string; type?: ListType }): UserList {
    const id = fields.id ?? String(this.nextListId++);
    const list: UserList = {
      id,
      customerId: fields.customerId,
      name: fields.name ?? `Customer list ${id}`,
      type: fields.type ?? 'CRM_BASED',
      members: { email: new Map(), phone: new Map(), address: new Map() },
    };
    this.lists.set(id, list);
    return list;
  }

  add(list: UserList, identifiers: StoredIdentifier[], at: number): void {
    for (const { type, key } of identifiers) list.members[type].set(key, at);
  }

  remove(list: UserList, identifiers: StoredIdentifier[]): void {
    for (const { type, key } of identifiers) list.members[type].delete(key);
  }

  /** Every value last added before `asOf` leaves (Data Manager removeAll; OUDJ removeAll with asOf = now). */
  removeAll(list: UserList, asOf: number): void {
    for (const type of IDENTIFIER_TYPES) {
      for (const [key, at] of list.members[type]) if (at <= asOf) list.members[type].delete(key);
    }
  }

  recordRequest(request: Omit<DmRequest, 'id'>): DmRequest {
    const saved = { ...request, id: randomUUID() };
    this.requests.set(saved.id, saved);
    if (this.requests.size > MAX_REQUESTS) this.requests.delete(this.requests.keys().next().value!);
    return saved;
  }

  createJob(customerId: string, listId: string, consent?: Record<string, string>): Job {
    const job: Job = { id: String(this.nextJobId++), customerId, listId, status: 'PENDING', consent, staged: [], counts: { creates: 0, removes: 0, removeAll: false } };
    this.jobs.set(job.id, job);
    if (this.jobs.size > MAX_REQUESTS) this.jobs.delete(this.jobs.keys().next().value!);
    return job;
  }

  clear(): void {
    this.lists.clear();
    this.requests.clear();
    this.jobs.clear();
    this.nextListId = FIRST_LIST_ID;
    this.nextJobId = FIRST_JOB_ID;
  }

  snapshot(): unknown {
    return {
      nextListId: this.nextListId,
      nextJobId: this.nextJobId,
      lists: [...this.lists.values()].map((l) => ({
        ...l,
        members: Object.fromEntries(IDENTIFIER_TYPES.map((t) => [t, [...l.members[t]]])),
      })),
      requests: [...this.requests.values()],
      jobs: [...this.jobs.values()].map(({ staged: _staged, ...job }) => job),
    };
  }

  restore(saved: unknown): void {
    const s = saved as { nextListId?: unknown; nextJobId?: unknown; lists?: any[]; requests?: DmRequest[]; jobs?: Omit<Job, 'staged'>[] } | undefined;
    if (!s || typeof s.nextListId !== 'number' || !Array.isArray(s.lists)) throw new Error('the saved Google sandbox state has an unknown format');
    this.clear();
    this.nextListId = s.nextListId;
    this.nextJobId = typeof s.nextJobId === 'number' ? s.nextJobId : FIRST_JOB_ID;
    for (const l of s.lists) {
      const members = Object.fromEntries(IDENTIFIER_TYPES.map((t) => [t, new Map<string, number>(l.members?.[t] ?? [])])) as UserList['members'];
      this.lists.set(l.id, { id: l.id, customerId: l.customerId, name: l.name, type: l.type, members });
    }
    for (const r of s.requests ?? []) this.requests.set(r.id, r);
    for (const j of s.jobs ?? []) this.jobs.set(j.id, { ...j, staged: [] });
  }
}
