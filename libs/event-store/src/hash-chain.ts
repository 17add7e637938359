import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { MetadataToAppend } from './event-store.port';

/** The prevHash of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface HashInput {
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  /** The metadata as appended, without prevHash and hash. */
  readonly metadata: MetadataToAppend;
  readonly prevHash: string;
}

/**
 * SHA-256 (hex) over the canonical encoding of everything that makes an event what it is. Changing any byte of
 * the stream, revision, type, data or metadata, or re-linking the event to another predecessor, changes the hash.
 */
export function eventHash(input: HashInput): string {
  // One-shot hash: a third of createHash().update().digest()'s cost, once per appended event.
  return hash('sha256', eventHashInput(input), 'hex');
}

/** The canonical encoding the event's hash is computed over; also the data of the event's leaf in the Merkle tree. */
export function eventHashInput(input: HashInput): string {
  return canonicalJson({
    streamId: input.streamId,
    revision: input.revision.toString(),
    type: input.type,
    data: input.data,
    metadata: input.metadata,
    prevHash: input.prevHash,
  });
}

/** The metadata without its hash-chain fields, exactly as it was hashed. */
export function metadataWithoutChain(metadata: MetadataToAppend & { prevHash?: string; hash?: string }): MetadataToAppend {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { prevHash: _prevHash, hash: _hash, ...rest } = metadata;
  return rest;
}
