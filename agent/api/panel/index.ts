export { HouseholdPanel, type HouseholdPanelDeps } from './household-panel';
export { PanelLanListener } from './panel-listener';
export { deviceFacts } from './device-facts';
export { ensurePairingCode, formatPairingCode, readPairingCode, writeNewPairingCode, pairingCodePath } from './pairing-code';
