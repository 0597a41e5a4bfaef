import { z } from 'zod';

/** Model, destination and sync names become part of table names and ids, so they stay SQL-safe. */
export const NAME_PATTERN = /^[a-z_][a-z0-9_]*$/;

export const nameSchema = z.string().regex(NAME_PATTERN, 'lowercase letters, digits and underscores, starting with a letter or underscore');
