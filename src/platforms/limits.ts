import { z } from 'zod';

/** `limits:` of a destination file; clamped to the platform's own limits at run time. */
export const limitsSchema = z.strictObject({
  requests_per_second: z.number().positive().optional(),
  concurrency: z.number().int().positive().max(64).optional(),
  batch_size: z.number().int().positive().optional(),
});

export type Limits = z.infer<typeof limitsSchema>;
