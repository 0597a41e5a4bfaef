// Turns anything thrown into one clear message and a documented exit code. Stack traces only at
// --log-level debug.
import { AudsyncError, ConfigError, LockedError, UsageError } from '../core/errors.js';
import { EXIT } from '../core/result.js';
import { redact } from '../core/secrets.js';

export interface Failure {
  exitCode: number;
  type: string;
  message: string;
  hint?: string;
  issues?: ConfigError['issues'];
}

export function classify(error: unknown): Failure {
  if (error instanceof ConfigError) {
    return { exitCode: EXIT.usage, type: 'config', message: redact(error.message), hint: error.hint, issues: error.issues };
  }
  if (error instanceof UsageError) return { exitCode: EXIT.usage, type: 'usage', message: redact(error.message), hint: error.hint };
  if (error instanceof LockedError) return { exitCode: EXIT.skipped, type: 'locked', message: redact(error.message), hint: error.hint };
  if (error instanceof AudsyncError) return { exitCode: EXIT.failed, type: error.name, message: redact(error.message), hint: error.hint };
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: EXIT.failed, type: 'internal', message: redact(`internal error: ${message}`), hint: 'rerun with --log-level debug and report it' };
}

export function printFailure(failure: Failure, options: { json: boolean; debug: boolean; error?: unknown }): void {
  if (options.json) {
    process.stdout.write(
      JSON.stringify({ status: 'error', error: { type: failure.type, message: failure.message, hint: failure.hint ?? null, issues: failure.issues ?? [] } }) + '\n',
    );
  }
  const lines = [`error: ${failure.message}`];
  if (failure.hint) lines.push(`hint: ${failure.hint}`);
  if (options.debug && options.error instanceof Error && options.error.stack) lines.push(redact(options.error.stack));
  process.stderr.write(lines.join('\n') + '\n');
}
