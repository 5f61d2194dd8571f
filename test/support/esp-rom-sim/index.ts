export * from './esp32-rom-simulator';
export { OP } from './esp-rom-protocol';
export type { SimChip } from './esp-chips';
export * from './esp-idf-images';
export * from './slip';
