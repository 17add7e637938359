import { hash, randomFillSync } from 'node:crypto';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A deterministic UUID for the index-th event of a command: the same command id always yields the same event ids,
 * so a retried append is recognised by the store as the same append.
 *
 * When the command id is a time-ordered UUID (version 7, as `timeOrderedUuid` makes), the event id keeps its
 * 48-bit millisecond prefix and takes the rest from SHA-256 (version 8 layout): ids made close in time sort close
 * together, so the store's unique index on event ids grows at its right edge instead of touching a random page of
 * the index per event (on SQLite, about half the pages written by a group commit of 64 appends). Other command ids
 * (an idempotency key, say) give a version 5-style id, SHA-256 based.
 */
export function eventIdFor(commandId: string, index: number): string {
  const bytes = hash('sha256', `${commandId}\u0000${index}`, 'buffer').subarray(0, 16);
  const timeOrdered = V7.test(commandId);
  if (timeOrdered) Buffer.from(commandId.slice(0, 8) + commandId.slice(9, 13), 'hex').copy(bytes, 0);
  bytes[6] = (bytes[6]! & 0x0f) | (timeOrdered ? 0x80 : 0x50);
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return formatUuid(bytes);
}

const POOL_UUIDS = 256;
let pool = Buffer.alloc(0);
let poolOffset = 0;
let lastMs = 0;
let sequence = 0;

/**
 * A version 7 UUID (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that orders ids made in the same
 * millisecond by this process, then 62 random bits.
 */
export function timeOrderedUuid(now: number = Date.now()): string {
  if (poolOffset + 16 > pool.length) {
    pool = randomFillSync(Buffer.alloc(16 * POOL_UUIDS));
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  // A clock that steps back keeps the last millisecond, so ids never go backwards within this process.
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    sequence += 1;
    if (sequence > 0xfff) {
      ms += 1;
      sequence = 0;
    }
  } else {
    sequence = bytes[7]! & 0x3f;
  }
  lastMs = ms;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return formatUuid(bytes);
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
