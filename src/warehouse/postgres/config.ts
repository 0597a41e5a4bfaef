import { z } from 'zod';
import type { WarehouseConfigSpec } from '../registry.js';

// Either one URL or the fields: a URL already names host, port, user, password and database, so a
// field next to it would be ignored or contradict it.
const URL_FIELDS = ['port', 'user', 'password', 'database'] as const;

export const postgresConfigSchema = z
  .strictObject({
    /** postgres://user:password@host:5432/database?sslmode=require, always through ${ENV}. */
    connection: z.string().regex(/^postgres(ql)?:\/\//, 'a URL such as postgres://user:password@host:5432/database').optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    ssl: z
      .union([z.boolean(), z.strictObject({ reject_unauthorized: z.boolean().optional(), ca: z.string().min(1).optional() })])
      .optional(),
    /** Server-side limit per statement; a runaway model query is cancelled instead of running on. */
    statement_timeout_ms: z.number().int().positive().optional(),
    application_name: z.string().min(1).default('audsync'),
  })
  .superRefine((c, ctx) => {
    if (c.connection === undefined && c.host === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set connection: "${DATABASE_URL}" (a postgres:// URL), or host: with port, user, password and database',
      });
    }
    if (c.connection !== undefined && c.host !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: 'use either connection: or host:, not both' });
    }
    if (c.connection !== undefined) {
      for (const field of URL_FIELDS) {
        if (c[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [field], message: `'${field}' goes with host:; with connection:, put it in the URL` });
        }
      }
    }
  })
  .transform((c) => (c.host !== undefined ? { ...c, port: c.port ?? 5432 } : c));

export type PostgresConfig = z.output<typeof postgresConfigSchema>;

export const configSpec: WarehouseConfigSpec = {
  type: 'postgres',
  schema: postgresConfigSchema,
  // The URL carries the password, so it is a secret as a whole.
  secretFields: ['connection', 'password'],
};
