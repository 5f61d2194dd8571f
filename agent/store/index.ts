export * from './database';
export * from './migrations';
export * from './group-commit';
export * from './ingest-store';
export * from './outbox-store';
export * from './counter-store';
export * from './engagement-store';
