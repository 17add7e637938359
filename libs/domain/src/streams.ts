import type { AssetCode } from './money/assets';

/**
 * Stream names: one stream per account, per incident and per asset's prices, and one for the platform, so that a
 * command appends to one stream at that stream's expected revision. Ids are validated at the edges, so a name never
 * needs escaping.
 */
export const ACCOUNT_STREAM_PREFIX = 'account-';
export const INCIDENT_STREAM_PREFIX = 'incident-';
export const PRICE_STREAM_PREFIX = 'prices-';
export const PLATFORM_STREAM = 'platform';

export const accountStream = (accountId: string): string => `${ACCOUNT_STREAM_PREFIX}${accountId}`;
export const incidentStream = (incidentId: string): string => `${INCIDENT_STREAM_PREFIX}${incidentId}`;
export const priceStream = (asset: AssetCode): string => `${PRICE_STREAM_PREFIX}${asset}`;
