import { z } from 'zod';
import { limitsSchema } from '../limits.js';
import type { PlatformConfigSpec } from '../platform.js';

export const metaConfigSchema = z.strictObject({
  ad_account_id: z.string().regex(/^act_\d+$/, "an ad account id such as 'act_1234567890'"),
  access_token: z.string().min(1),
  /** Optional: adds appsecret_proof to every call, as apps with "Require App Secret" need. */
  app_secret: z.string().min(1).optional(),
  api_version: z.string().regex(/^v\d+\.0$/, "a Graph API version such as 'v21.0'").default('v21.0'),
  api_base_url: z.url().optional(),
  limits: limitsSchema.optional(),
  timeout_ms: z.number().int().positive().default(30_000),
});

export type MetaConfig = z.infer<typeof metaConfigSchema>;

export const configSpec: PlatformConfigSpec = {
  type: 'meta_custom_audiences',
  schema: metaConfigSchema,
  secretFields: ['access_token', 'app_secret'],
  baseUrlField: 'api_base_url',
};
