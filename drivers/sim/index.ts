export * from './device-catalog';
export * from './sim-device';
export * from './sim-driver';
export * from './serial-sim-device';
