
export * from './serial-link';
export * from './serial-driver';
export * from './port-scanner';
