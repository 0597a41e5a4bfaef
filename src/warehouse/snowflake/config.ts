import { z } from 'zod';
import type { WarehouseConfigSpec } from '../registry.js';

// Password or key-pair authentication, the secrets always through ${ENV}. The session needs a
// current database (temporary tables are created in it), so database is required.
export const snowflakeConfigSchema = z
  .strictObject({
    /** Account identifier: orgname-accountname, or the account locator with its region. */
    account: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'an account identifier such as myorg-myaccount'),
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    /** A PEM private key (PKCS#8) for key-pair authentication. */
    private_key: z.string().includes('PRIVATE KEY', { message: 'a PEM private key (-----BEGIN PRIVATE KEY-----)' }).optional(),
    /** The same, as a file relative to the project dir. */
    private_key_path: z.string().min(1).optional(),
    /** Passphrase of an encrypted private key. */
    private_key_passphrase: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
    database: z.string().min(1),
    /** Current schema: where unqualified names in models resolve and where temporary tables live. */
    schema: z.string().min(1).optional(),
    role: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    const ways = [c.password, c.private_key, c.private_key_path].filter((v) => v !== undefined).length;
    if (ways === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set password: "${SNOWFLAKE_PASSWORD}", or private_key: "${SNOWFLAKE_PRIVATE_KEY}" / private_key_path: for key-pair authentication',
      });
    }
    if (ways > 1) ctx.addIssue({ code: 'custom', path: ['password'], message: 'use one of password:, private_key: and private_key_path:' });
    if (c.private_key_passphrase !== undefined && c.password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['private_key_passphrase'], message: 'private_key_passphrase goes with private_key: or private_key_path:' });
    }
  });

export type SnowflakeConfig = z.output<typeof snowflakeConfigSchema>;

export const configSpec: WarehouseConfigSpec = {
  type: 'snowflake',
  schema: snowflakeConfigSchema,
  secretFields: ['password', 'private_key', 'private_key_passphrase'],
};
