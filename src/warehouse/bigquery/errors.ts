// Every BigQuery error becomes a WarehouseError with BigQuery's own words, scrubbed of row data
// (a value quoted by a conversion error) and never holding credentials: only the message is kept,
// not the driver's error, whose response object carries the request.
import { WarehouseError } from '../../core/errors.js';
import { scrubEngineMessage } from '../scrub.js';

const HINTS: [RegExp, string][] = [
  [/default credentials|invalid_grant|unauthenticated|login required/i, 'set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`, or set key_file: / credentials_json: in the target'],
  [/access denied|permission/i, 'the account needs BigQuery Job User on the project and Data Editor on the state dataset (and Data Viewer on the models\' tables)'],
  [/bytes billed|maximum_bytes_billed|bytesBilledLimitExceeded/i, 'raise maximum_bytes_billed in the target, or make the model scan less'],
  [/location/i, 'location: in the target must be where the datasets live (US, EU or a region)'],
];

export function bigqueryError(error: unknown, sql: string): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const hint = HINTS.find(([pattern]) => pattern.test(message))?.[1];
  return new WarehouseError('bigquery', scrubEngineMessage(message, sql), hint ? { hint } : {});
}
