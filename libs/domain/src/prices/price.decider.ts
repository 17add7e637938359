import type { DateTime } from 'luxon';
import type { AssetCode } from '../money/assets';
import { assertNever, invariant } from '../shared/assert';
import { domainError } from '../shared/errors';
import { event, type Command } from '../shared/event';
import { fromIso, toIso } from '../shared/time';
import type { PriceEvent } from './price.events';

/** Prices carry up to 8 decimals of a US dollar; values are rounded to cents only when reported. */
export const PRICE_SCALE = 8;
export const PRICE_MAX_LENGTH = 32;
const PRICE_INPUT = /^(0|[1-9][0-9]{0,15})(\.[0-9]{1,8})?$/;

export type RecordPrice = Command<'RecordPrice', { asset: AssetCode; usd: string }>;
export type PriceCommand = RecordPrice;

export interface PriceState {
  readonly latest: { readonly usdE8: bigint; readonly usd: string; readonly recordedAt: DateTime } | null;
}

export function initialPriceState(): PriceState {
  return { latest: null };
}

export type PriceParseResult = { ok: true; scaled: bigint } | { ok: false; reason: string };

/** Parses a USD price ("3129", "41929.5") into units of 10^-8 USD. */
export function parsePrice(text: unknown): PriceParseResult {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a decimal string such as "3129.00", not a JSON number' };
  if (text.length > PRICE_MAX_LENGTH) return { ok: false, reason: `must be at most ${PRICE_MAX_LENGTH} characters` };
  const match = PRICE_INPUT.exec(text);
  if (!match) return { ok: false, reason: 'must be a plain decimal with at most 16 integer digits and 8 decimals' };
  const fraction = (match[2] ?? '.').slice(1).padEnd(PRICE_SCALE, '0');
  return { ok: true, scaled: BigInt(match[1]! + fraction) };
}

export function canonicalPrice(scaled: bigint): string {
  const digits = scaled.toString().padStart(PRICE_SCALE + 1, '0');
  const fraction = digits.slice(-PRICE_SCALE).replace(/0+$/, '');
  const whole = digits.slice(0, -PRICE_SCALE);
  return fraction ? `${whole}.${fraction}` : whole;
}

export function evolvePrice(_state: PriceState, e: PriceEvent): PriceState {
  switch (e.type) {
    case 'AssetPriceRecorded': {
      const parsed = parsePrice(e.data.usd);
      invariant(parsed.ok, `recorded price ${e.data.usd} does not parse`);
      return { latest: { usdE8: parsed.scaled, usd: e.data.usd, recordedAt: fromIso(e.data.recordedAt) } };
    }
    default:
      return assertNever(e.type);
  }
}

export function decidePrice(command: PriceCommand, _state: PriceState, ctx: { now: DateTime }): PriceEvent[] {
  switch (command.type) {
    case 'RecordPrice': {
      const parsed = parsePrice(command.data.usd);
      invariant(parsed.ok, `unparsed price ${command.data.usd} reached the decider`);
      if (parsed.scaled <= 0n) throw domainError('PRICE_NOT_POSITIVE', command.data.usd);
      return [event('AssetPriceRecorded', { asset: command.data.asset, usd: canonicalPrice(parsed.scaled), recordedAt: toIso(ctx.now) })];
    }
    default:
      return assertNever(command.type);
  }
}
