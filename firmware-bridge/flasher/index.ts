export * from './esp-image-inspector';
export * from './flash-plan';
export * from './partition-table-inspector';
export * from './flash-progress';
export * from './web-serial-port-adapter';
export * from './esp-flasher';
export * from './hello-listener';
export * from './rtc-watchdog-reset';
