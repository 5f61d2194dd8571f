import type { Channel } from '../engagement/types';

/** Delivery of a trigger through channel `device`: `none` when the device channel was not among its channels. */
export type DeliveryState = 'delivered' | 'pending' | 'failed' | 'none';
export const DELIVERY_STATES: readonly DeliveryState[] = ['delivered', 'pending', 'failed', 'none'];

/** A trigger as the outcome metrics see it; `id` is the trigger signal's id (the one sent upstream). */
export interface TriggerRecord {
  id: string;
  profile: string;
  campaign: string;
  /** the device whose event qualified (where channel `device` delivers) */
  device: string | null;
  at: number;
  channels: Channel[];
  delivery: DeliveryState;
  deliveryError: string | null;
  deliveredAt: number | null;
}

/** A purchase: a conversion device event, or one reported from upstream for a trigger id. */
export interface PurchaseRecord {
  profile: string;
  campaign: string;
  device: string | null;
  at: number;
  source: 'device' | 'upstream';
  /** upstream purchases name the trigger they answer */
  trigger: string | null;
}

export interface PresenceRecord {
  profile: string;
  campaign: string;
  device: string;
  kind: 'start' | 'end';
  at: number;
}

/** Everything the metrics are computed from (already consent-filtered: withdrawn data is purged at the source). */
export interface OutcomeHistory {
  triggers: readonly TriggerRecord[];
  purchases: readonly PurchaseRecord[];
  presence: readonly PresenceRecord[];
}
