// One root class; subclasses say what happens next, not where the error came from.
//   ConfigError / UsageError  -> nothing runs, exit 2
//   ModelError / WarehouseError -> the sync (or run) fails, exit 1, nothing sent for it
//   FatalError     -> a platform refused in a way retrying cannot fix: stop this sync
//   RetriableError -> back off (honouring retryAfterMs) and send the same request again

export abstract class AudsyncError extends Error {
  /** A short sentence telling the user what to do about it. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

export interface ConfigIssue {
  file: string; // relative to the project dir
  path: string; // dotted field path inside the file, '' for the whole file
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends AudsyncError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options: { hint?: string } = {}) {
    super(formatIssues(issues), options);
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

function formatIssues(issues: ConfigIssue[]): string {
  if (issues.length === 1) return formatIssue(issues[0]!);
  return `${issues.length} problems in the project:\n` + issues.map((i) => `  - ${formatIssue(i)}`).join('\n');
}

/** Bad command-line usage (unknown flag, bad --select). */
export class UsageError extends AudsyncError {}

/** A model's SQL or data cannot be synced as it is (missing key column, duplicate keys...). */
export class ModelError extends AudsyncError {
  constructor(
    readonly model: string,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`model '${model}': ${message}`, options);
  }
}

/** The warehouse refused or could not be reached. The message carries the engine's own words. */
export class WarehouseError extends AudsyncError {
  constructor(
    readonly engine: string,
    message: string,
    options: { hint?: string; cause?: unknown; model?: string } = {},
  ) {
    super(options.model ? `model '${options.model}' on ${engine}: ${message}` : `${engine}: ${message}`, options);
  }
}

/** A platform answer that retrying cannot fix (bad credentials, missing permission, unknown audience). */
export class FatalError extends AudsyncError {
  constructor(
    message: string,
    readonly details: { status?: number; code?: string } = {},
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** A platform answer worth retrying (throttling, 5xx, timeouts, connection resets). */
export class RetriableError extends AudsyncError {
  constructor(
    message: string,
    readonly details: { status?: number; code?: string; retryAfterMs?: number } = {},
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Another run holds the lock of a sync. */
export class LockedError extends AudsyncError {}
