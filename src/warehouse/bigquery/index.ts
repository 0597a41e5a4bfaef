import type { WarehouseDefinition } from '../warehouse.js';
import type { BigQueryConfig } from './config.js';
import { BigQueryWarehouse, bigqueryCapabilities } from './bigquery-warehouse.js';

export const definition: WarehouseDefinition<BigQueryConfig> = {
  type: 'bigquery',
  capabilities: bigqueryCapabilities,
  connect: (config, context) => BigQueryWarehouse.open(config, context),
};
