import { createHash } from 'node:crypto';

/**
 * A deterministic UUID (version 5 layout, SHA-256 based) for the index-th event of a command. The same command id
 * always yields the same event ids, so a retried append is recognised by the store as the same append.
 */
export function eventIdFor(commandId: string, index: number): string {
  const bytes = createHash('sha256').update(`${commandId}\u0000${index}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
