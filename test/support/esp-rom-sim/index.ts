export * from './esp32-rom-simulator';
export * from './esp-idf-images';
export * from './slip';
