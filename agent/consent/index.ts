export * from './consent-rules';
export * from './consent-ledger';
