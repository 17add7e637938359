import { MAX_STREAM_ID_CHARS } from '@app/event-store';
import { ALL_PROJECTIONS, MAX_BATCH_SIZE, MAX_FOLD_WORKERS } from '@app/projections';
import { InvalidOptionValueError } from './cli-errors';

/** Typed reads of the options commander parsed: each @Option method has already validated its value. */
export function stringOption(raw: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = raw[name];
  return typeof value === 'string' ? value : undefined;
}

export function flagOption(raw: Readonly<Record<string, unknown>>, name: string): boolean {
  return raw[name] === true;
}

export function numberOption(raw: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = raw[name];
  return typeof value === 'number' ? value : undefined;
}

/** Events per commit of a rebuild: a whole number from 1 to MAX_BATCH_SIZE. */
export function parseBatchSize(value: string): number {
  const size = /^[0-9]{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(size >= 1 && size <= MAX_BATCH_SIZE)) {
    throw new InvalidOptionValueError(`must be a whole number of events from 1 to ${MAX_BATCH_SIZE} (got ${JSON.stringify(value)})`);
  }
  return size;
}

export function parseWorkers(value: string): number {
  const workers = /^[0-9]{1,2}$/.test(value) ? Number(value) : Number.NaN;
  if (!(workers >= 1 && workers <= MAX_FOLD_WORKERS)) {
    throw new InvalidOptionValueError(`must be a whole number of threads from 1 to ${MAX_FOLD_WORKERS} (got ${JSON.stringify(value)})`);
  }
  return workers;
}

export function bigintOption(raw: Readonly<Record<string, unknown>>, name: string): bigint | undefined {
  const value = raw[name];
  return typeof value === 'bigint' ? value : undefined;
}

/** Longest decimal a position or revision may be written with; the store's own limit is far below it. */
const MAX_POSITION_DIGITS = 19;

/** A position or revision: a whole decimal number, as the log prints them. */
export function parsePosition(value: string): bigint {
  if (!new RegExp(`^[0-9]{1,${MAX_POSITION_DIGITS}}$`).test(value)) {
    throw new InvalidOptionValueError(`must be a whole number such as 1200 (got ${JSON.stringify(value)})`);
  }
  return BigInt(value);
}

export function parseStreamId(value: string): string {
  if (value === '' || value.length > MAX_STREAM_ID_CHARS) {
    throw new InvalidOptionValueError(`must be a stream id of 1 to ${MAX_STREAM_ID_CHARS} characters, such as account-alice`);
  }
  return value;
}

/** The names `--projection` accepts: the read models the ledger serves (ALL_PROJECTIONS). */
export const PROJECTION_NAMES: readonly string[] = ALL_PROJECTIONS.map((projection) => projection.name);

export function parseProjectionName(value: string): string {
  if (!PROJECTION_NAMES.includes(value)) {
    throw new InvalidOptionValueError(`must be one of ${PROJECTION_NAMES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value;
}
