// The part of snowflake-sdk the warehouse uses, as structural types, and the one place the SDK
// (about 120 MB with its cloud-storage clients) is loaded: lazily, on connect.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { WarehouseContext } from '../warehouse.js';
import type { SnowflakeConfig } from './config.js';

export interface SnowflakeColumn {
  getName(): string;
}

export interface SnowflakeStatement {
  getColumns(): SnowflakeColumn[] | undefined;
  streamRows(): AsyncIterable<Record<string, unknown>>;
}

export interface ExecuteOptions {
  sqlText: string;
  binds?: unknown[];
  streamResult?: boolean;
  describeOnly?: boolean;
  complete: (error: Error | undefined, statement: SnowflakeStatement, rows?: Record<string, unknown>[]) => void;
}

export interface SnowflakeConnection {
  execute(options: ExecuteOptions): unknown;
  destroy(callback: (error: Error | undefined) => void): void;
}

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

/** Opens the session. `sdkOptions` adds driver options (tests point the driver at loopback). */
export async function connectSnowflake(config: SnowflakeConfig, context: WarehouseContext, sdkOptions: Record<string, unknown> = {}): Promise<SnowflakeConnection> {
  // The SDK's S3 client warns about Node 20 on load; it says nothing about audsync or Snowflake.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = (await import('snowflake-sdk')).default;
  // The SDK would otherwise write snowflake.log into the working directory.
  sdk.configure({ logLevel: 'ERROR', customLogger: quiet });
  const connection = sdk.createConnection({ ...(await connectionOptions(config, context)), ...sdkOptions });
  // connect(callback), not connectAsync(): the latter reports some failures (a refused connection)
  // only to a callback and would leave the promise pending for ever.
  await new Promise<void>((resolve, reject) => {
    connection.connect((error) => (error ? reject(error) : resolve()));
  });
  return connection as unknown as SnowflakeConnection;
}

export async function connectionOptions(config: SnowflakeConfig, context: WarehouseContext): Promise<Record<string, unknown>> {
  return {
    account: config.account,
    username: config.username,
    ...(await authentication(config, context)),
    ...(config.warehouse ? { warehouse: config.warehouse } : {}),
    database: config.database,
    ...(config.schema ? { schema: config.schema } : {}),
    ...(config.role ? { role: config.role } : {}),
    // A delivery can run for hours between statements; the session (and its temp tables) must live on.
    clientSessionKeepAlive: true,
    // NUMBER(38,0) values beyond 2^53 would otherwise be rounded.
    jsTreatIntegerAsBigInt: true,
  };
}

async function authentication(config: SnowflakeConfig, context: WarehouseContext): Promise<Record<string, string>> {
  if (config.password !== undefined) return { password: config.password };
  const passphrase: Record<string, string> = config.private_key_passphrase ? { privateKeyPass: config.private_key_passphrase } : {};
  const key = config.private_key ?? (await readFile(resolve(context.projectDir, config.private_key_path!), 'utf8'));
  // A key pasted into one environment variable often has its line breaks written as \n.
  const privateKey = key.includes('\n') ? key : key.replace(/\\n/g, '\n');
  return { authenticator: 'SNOWFLAKE_JWT', privateKey, ...passphrase };
}
