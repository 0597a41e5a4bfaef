// pino logs to stderr: JSON when stderr is not a TTY (orchestrators), pretty when it is.
import pino, { type Logger } from 'pino';
import { redact } from './secrets.js';

export type LogFormat = 'json' | 'pretty';
export type { Logger };

export function createLogger(options: { level?: string; format?: LogFormat; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const base = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      // Scrub registered secrets from every string a log call carries, message or field.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map(scrub));
      },
    },
  } satisfies pino.LoggerOptions;
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  if (format === 'pretty') {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss', singleLine: true, ignore: 'invocation_id' } } });
  }
  return pino(base, pino.destination({ fd: 2, sync: true }));
}

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return { message: redact(value.message), type: value.name };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrub(v);
    return out;
  }
  return value;
}

/** A logger that drops everything, for library use and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
