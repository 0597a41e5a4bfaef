// models/<name>.yml. Cross-file rules (unique names, existing destinations, unique sync ids,
// templating) are checked in model.ts and load.ts once every file is read.
import { z } from 'zod';
import { IDENTIFIER_KINDS, type IdentifierKind } from '../core/identifiers.js';
import { nameSchema } from './names.js';
import { guardrailsOverrideSchema, modeSchema } from './project-schema.js';

const column = z.string().min(1);

// An object with one optional key per kind, so an unknown kind is reported as an unknown key
// together with the list of kinds that exist.
const identifiersSchema = z
  .strictObject(Object.fromEntries(IDENTIFIER_KINDS.map((kind) => [kind, column.optional()])) as Record<IdentifierKind, z.ZodOptional<typeof column>>)
  .refine((ids) => Object.values(ids).some((c) => c !== undefined), {
    message: 'map at least one identifier kind to a column, e.g. email: email',
    // Only a misspelled kind ({ emial: email }) is already reported as an unknown key: say it once.
    when: (payload) => payload.issues.length === 0,
  });

/** Ids written as YAML numbers are coerced to strings; long ones would already have lost digits. */
const audienceIdSchema = z.union([
  z.string().min(1),
  z
    .number()
    .refine(Number.isSafeInteger, 'this id is too long to be read exactly as a YAML number; write it in quotes, e.g. id: "23851234567890123"')
    .transform(String),
]);

const audienceSchema = z
  .strictObject({ id: audienceIdSchema.optional(), name: z.string().min(1).optional() })
  .refine((a) => (a.id === undefined) !== (a.name === undefined), 'give exactly one of id (an existing audience) or name (found or created by name)');

export const syncSchema = z.strictObject({
  destination: z.string().min(1),
  audience: audienceSchema,
  name: nameSchema.optional(),
  mode: modeSchema.optional(),
  guardrails: guardrailsOverrideSchema.optional(),
  max_attempts: z.number().int().min(1).optional(),
});

export const modelSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  owner: z.string().optional(),
  tags: z.array(z.string().min(1)).default([]),
  sql: z.string().min(1),
  key: column,
  identifiers: identifiersSchema,
  consent: column.optional(),
  /** Per-member consent signals for platforms that take them (Google's DMA adUserData, adPersonalization). */
  consent_signals: z.strictObject({ ad_user_data: column.optional(), ad_personalization: column.optional() }).optional(),
  updated_at: column.optional(),
  holdout: z
    .strictObject({
      percent: z.number().gt(0).lt(100),
      salt: z.union([z.string().min(1), z.number().transform(String)]),
    })
    .optional(),
  syncs: z.array(syncSchema).default([]),
});

export type ModelFile = z.output<typeof modelSchema>;
export type SyncFile = z.output<typeof syncSchema>;
