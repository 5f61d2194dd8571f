export * from './gatt-uuids';
export * from './characteristic-decoder';
export * from './ble-device-spec';
export * from './ble-link';
export * from './ble-driver';
export * from './ble-scanner';
export * from './gatt-frame-channel';
export * from './sensor-channel';
