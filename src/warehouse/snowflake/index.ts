import type { WarehouseDefinition } from '../warehouse.js';
import type { SnowflakeConfig } from './config.js';
import { SnowflakeWarehouse, snowflakeCapabilities } from './snowflake-warehouse.js';

export const definition: WarehouseDefinition<SnowflakeConfig> = {
  type: 'snowflake',
  capabilities: snowflakeCapabilities,
  connect: (config, context) => SnowflakeWarehouse.open(config, context),
};
