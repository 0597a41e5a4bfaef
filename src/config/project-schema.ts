// audsync.yml. The warehouse mapping is only checked for shape here (a mapping with a `type`);
// its options are validated by the engine's own schema in project.ts.
import { z } from 'zod';
import { nameSchema } from './names.js';

export const guardrailsSchema = z.strictObject({
  max_remove_percent: z.number().min(0).max(100).default(50),
  max_add_percent: z.number().min(0).optional(),
  min_members: z.number().int().min(0).default(1),
});

/** A sync's `guardrails:` overrides only what it names. */
export const guardrailsOverrideSchema = z.strictObject({
  max_remove_percent: z.number().min(0).max(100).optional(),
  max_add_percent: z.number().min(0).optional(),
  min_members: z.number().int().min(0).optional(),
});

export const modeSchema = z.enum(['mirror', 'add_only']);

export const defaultsSchema = z.strictObject({
  mode: modeSchema.default('mirror'),
  default_country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code in capitals, such as US').default('US'),
  max_attempts: z.number().int().min(1).default(5),
  // prefault, not default: the empty mapping still goes through the inner defaults.
  guardrails: guardrailsSchema.prefault({}),
});

export const targetSchema = z.strictObject({
  warehouse: z.record(z.string(), z.unknown()),
  sandbox: z.boolean().default(false),
});

export const varsSchema = z.record(z.string(), z.unknown());

export const projectSchema = z.strictObject({
  name: z.string().min(1),
  target: z.string().min(1).optional(),
  targets: z
    .record(z.string(), targetSchema)
    .refine((targets) => Object.keys(targets).length > 0, 'define at least one target, e.g. dev: { warehouse: { type: duckdb } }'),
  state_schema: nameSchema.default('audsync'),
  vars: varsSchema.default({}),
  defaults: defaultsSchema.prefault({}),
});

export type ProjectFile = z.output<typeof projectSchema>;
export type DefaultsFile = z.output<typeof defaultsSchema>;
