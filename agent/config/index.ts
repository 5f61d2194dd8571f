export * from './types';
export * from './errors';
export * from './config-loader';
export { parseDuration } from './duration';
export { applyEnvOverrides } from './env-overrides';
export { CONFIG_SCHEMA } from './schema';
