// From the target's config to pg's client settings, and what a user is told when the server cannot
// be reached. Neither the password nor the URL (which carries it) ever goes into a message.
import pg from 'pg';
import { WarehouseError } from '../../core/errors.js';
import type { PostgresConfig } from './config.js';
import { pgTypes } from './values.js';

/** A server that does not answer fails the run in this time, instead of the OS's minutes. */
export const CONNECT_TIMEOUT_MS = 15_000;

export function clientConfig(config: PostgresConfig): pg.ClientConfig {
  const ssl =
    config.ssl === undefined || typeof config.ssl === 'boolean'
      ? config.ssl
      : { rejectUnauthorized: config.ssl.reject_unauthorized ?? true, ...(config.ssl.ca ? { ca: config.ssl.ca } : {}) };
  const common: pg.ClientConfig = {
    application_name: config.application_name,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Per client, never pg.types: another library in the process keeps pg's defaults.
    types: pgTypes(),
    ...(ssl !== undefined ? { ssl } : {}),
    ...(config.statement_timeout_ms ? { statement_timeout: config.statement_timeout_ms } : {}),
  };
  if (config.connection !== undefined) return { ...common, connectionString: config.connection };
  return { ...common, host: config.host, port: config.port, user: config.user, password: config.password, database: config.database };
}

/** Where the client will go, as pg resolves it (URL, fields, PG* variables): "host:port/database as user". */
export function describeTarget(settings: pg.ClientConfig): string {
  try {
    const client = new pg.Client(settings); // parses only; connects nothing
    return `${client.host}:${client.port}/${client.database ?? ''} as ${client.user ?? '?'}`;
  } catch {
    return 'the configured server';
  }
}

/** Removes the password and the URL from any text, in case a driver quotes them. */
export function hideCredentials(text: string, config: PostgresConfig): string {
  let out = text;
  const secrets = [config.connection, config.password, ...(config.connection ? urlPassword(config.connection) : [])];
  for (const secret of secrets) {
    // A very short password would blank ordinary letters; pg never quotes one anyway.
    if (secret && secret.length >= 3) out = out.split(secret).join('[redacted]');
  }
  return out.replace(/(postgres(?:ql)?:\/\/[^:@/\s]*:)[^@\s]*@/gi, '$1[redacted]@');
}

function urlPassword(url: string): string[] {
  try {
    const password = new URL(url).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

interface DriverError {
  code?: string;
  message?: string;
}

/** A failed connect, as a WarehouseError that says where, why, and what to check. */
export function connectError(error: unknown, target: string, config: PostgresConfig): WarehouseError {
  const e = (error ?? {}) as DriverError;
  const message = hideCredentials(e.message ?? String(error), config);
  const where = config.connection ? 'the connection URL' : 'host, port';
  const [reason, hint] = ((): [string, string] => {
    switch (e.code) {
      case 'ECONNREFUSED':
        return ['connection refused (ECONNREFUSED)', `is the server running and listening there? check ${where}`];
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return [`host not found (${e.code})`, `check ${config.connection ? 'the host in the connection URL' : 'host'}`];
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return [`no answer (${e.code})`, 'check the host, the port and any firewall between here and the server'];
      case '28P01':
        return [`authentication failed: ${message}`, `check the user and password (${config.connection ? 'in the URL' : 'password: ${VAR}'})`];
      case '28000':
        return [`not allowed: ${message}`, "the server's pg_hba.conf or the role refuses this login; check the user, or ask the database owner"];
      case '3D000':
        return [message, 'create the database, or fix its name'];
      default:
        if (/timeout/i.test(message)) return [`no answer within ${CONNECT_TIMEOUT_MS / 1000}s (${message})`, 'check the host, the port and any firewall'];
        if (/SSL/i.test(message)) return [message, 'check ssl: in the target (or sslmode in the URL) against what the server offers'];
        return [message, `check ${where} and that the server is up`];
    }
  })();
  return new WarehouseError('postgres', `cannot connect to ${target}: ${reason}`, { hint });
}
