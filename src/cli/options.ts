import { resolve } from 'node:path';
import { loadProject } from '../config/load.js';
import { parseVars } from '../config/select.js';
import { UsageError } from '../core/errors.js';
import { createLogger, type LogFormat } from '../core/log.js';
import type { Manifest } from '../core/manifest.js';

export interface GlobalOptions {
  projectDir: string;
  target?: string;
  vars?: string;
  logLevel: string;
  logFormat?: LogFormat;
  json?: boolean;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function loggerFor(o: GlobalOptions) {
  if (!LEVELS.includes(o.logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  if (o.logFormat && o.logFormat !== 'json' && o.logFormat !== 'pretty') throw new UsageError('--log-format must be json or pretty');
  return createLogger({ level: o.logLevel, format: o.logFormat });
}

export function loadManifest(o: GlobalOptions): Promise<Manifest> {
  return loadProject(resolve(o.projectDir), { target: o.target, vars: o.vars ? parseVars(o.vars) : undefined });
}
