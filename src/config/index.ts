export { readConfig, writeNewConfig, configPath, CONFIG_FILE } from './config.js';
export type { VaultConfig, StoreConfig } from './config.js';
