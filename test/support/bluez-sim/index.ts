export * from './private-dbus';
export * from './bluez-simulator';
export * from './sim-peripheral';
export * from './esp32-peripheral';
export * from './sensor-peripheral';
