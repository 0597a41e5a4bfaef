// The shape of a JSON body, answered as Google's parser answers (before any value is looked at):
// unknown field names, wrong types and enum values outside the schema's.
import { invalidJson } from './errors.js';

export type Json = Record<string, unknown>;

export function checkKeys(value: Json, allowed: string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const at = path ? ` at '${path}'` : '';
      throw invalidJson(`Invalid JSON payload received. Unknown name "${key.slice(0, 60)}"${at}: Cannot find field.`, path);
    }
  }
}

export function object(value: unknown, path: string): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw typeError(path, 'TYPE_MESSAGE');
  return value as Json;
}

export function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw typeError(path, 'TYPE_ARRAY');
  return value;
}

export function optionalBool(value: unknown, path: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw typeError(path, 'TYPE_BOOL');
  return value;
}

export function enumValue(value: unknown, values: string[], path: string, type: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !values.includes(value)) {
    throw invalidJson(`Invalid value at '${path}' (type.googleapis.com/google.ads.datamanager.v1.${type}), "${String(value).slice(0, 40)}"`, path);
  }
  return value;
}

export function typeError(path: string, type: string): ReturnType<typeof invalidJson> {
  return invalidJson(`Invalid value at '${path}' (${type}): the value has the wrong type.`, path);
}
