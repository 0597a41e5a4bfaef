import type { WarehouseDefinition } from '../warehouse.js';
import type { DuckDbConfig } from './config.js';
import { DuckDbWarehouse, duckdbCapabilities } from './duckdb-warehouse.js';

export const definition: WarehouseDefinition<DuckDbConfig> = {
  type: 'duckdb',
  capabilities: duckdbCapabilities,
  connect: (config, context) => DuckDbWarehouse.open(config, context),
};
