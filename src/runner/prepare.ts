// Turns selected syncs into data the SQL builders take: which identifier kinds each sync sends and
// by which rule, from the platform's declared capabilities (never from its name).
import { ModelError } from '../core/errors.js';
import { IDENTIFIER_KINDS, type IdentifierKind, type IdentifierRule } from '../core/identifiers.js';
import { CONSENT_SIGNALS, type ConsentSignal, type Manifest, type SyncDef } from '../core/manifest.js';
import type { NormalizedIdentifier } from '../warehouse/sql/candidate.js';
import { loadPlatform } from '../platforms/registry.js';
import type { PreparedSync } from './sync.js';

export async function prepareSyncs(manifest: Manifest, syncs: SyncDef[]): Promise<PreparedSync[]> {
  const prepared: PreparedSync[] = [];
  for (const [index, sync] of syncs.entries()) {
    const model = manifest.models.find((m) => m.name === sync.model)!;
    const destination = manifest.destinations.find((d) => d.name === sync.destination)!;
    const definition = await loadPlatform(destination.type);
    const capabilities = definition.capabilitiesFor?.(destination.config) ?? definition.capabilities;
    const identifiers: { kind: IdentifierKind; rule: IdentifierRule }[] = [];
    for (const kind of IDENTIFIER_KINDS) {
      const rule = capabilities.identifiers[kind];
      if (rule && model.identifiers[kind]) identifiers.push({ kind, rule });
    }
    // The platform's address is tracked as one identifier only when the sync sends all its parts.
    const address = capabilities.address && capabilities.address.parts.every((kind) => identifiers.some((i) => i.kind === kind)) ? capabilities.address : undefined;
    const p: PreparedSync = {
      sync,
      model,
      destination,
      spec: {
        syncId: sync.id,
        index,
        model: model.name,
        mode: sync.mode,
        identifiers,
        ...(address ? { address } : {}),
        freshStart: false,
        resendAll: false,
        maxAttempts: sync.maxAttempts,
        // Consent signals go where the platform takes them and the model maps them.
        signals: capabilities.memberConsent ? CONSENT_SIGNALS.filter((s) => model.consentSignals?.[s]) : [],
      },
    };
    p.problem = checkSendable(p, Object.keys(capabilities.identifiers));
    prepared.push(p);
  }
  return prepared;
}

/** A sync must send at least one identifier the platform matches on. */
function checkSendable(p: PreparedSync, accepted: string[]): ModelError | undefined {
  if (p.spec.identifiers.some((i) => i.rule.role === 'match')) return undefined;
  return new ModelError(
    p.model.name,
    `maps no identifier that destination '${p.destination.name}' (${p.destination.type}) matches on; it accepts ${accepted.join(', ')}`,
    { hint: `map one of them under identifiers: in ${p.model.file}` },
  );
}

/** Every identifier a model's selected syncs need, normalized once in its candidate table. */
export function identifiersByModel(prepared: PreparedSync[]): Map<string, NormalizedIdentifier[]> {
  const byModel = new Map<string, NormalizedIdentifier[]>();
  for (const p of prepared) {
    const list = byModel.get(p.model.name) ?? [];
    list.push(...p.spec.identifiers);
    byModel.set(p.model.name, list);
  }
  return byModel;
}

/** Consent signals some selected sync of a model sends: its candidate table carries them. */
export function signalsByModel(prepared: PreparedSync[]): Map<string, ConsentSignal[]> {
  const byModel = new Map<string, Set<ConsentSignal>>();
  for (const p of prepared) {
    const set = byModel.get(p.model.name) ?? new Set<ConsentSignal>();
    for (const s of p.spec.signals ?? []) set.add(s);
    byModel.set(p.model.name, set);
  }
  return new Map([...byModel].map(([model, set]) => [model, [...set]]));
}
