import type { AssetCode } from '../money/assets';
import type { Event } from '../shared/event';

/** A USD price per whole unit of an asset, recorded so that every valuation replays identically. */
export type AssetPriceRecorded = Event<'AssetPriceRecorded', { asset: AssetCode; usd: string; recordedAt: string }>;

export type PriceEvent = AssetPriceRecorded;
