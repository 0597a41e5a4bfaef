import type { WarehouseDefinition } from '../warehouse.js';
import type { PostgresConfig } from './config.js';
import { PostgresWarehouse, postgresCapabilities } from './postgres-warehouse.js';

export const definition: WarehouseDefinition<PostgresConfig> = {
  type: 'postgres',
  capabilities: postgresCapabilities,
  connect: (config) => PostgresWarehouse.open(config),
};
