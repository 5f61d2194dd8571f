export * from './index-formula';
export * from './types';
export * from './engagement-engine';
