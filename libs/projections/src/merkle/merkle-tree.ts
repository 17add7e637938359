import {
  consistencyProof,
  emptyTreeHash,
  eventLeafHash,
  inclusionProof,
  isPowerOfTwo,
  LeafList,
  nodeHash,
  splitPoint,
  treeHead,
  type EventStore,
  type Hash,
  type SubtreeHashes,
} from '@app/event-store';
import type { ReadModelRow } from '../projection';
import type { ReadStore } from '../read-store.port';

/**
 * The RFC 9162 Merkle tree over the global log, kept in the read store (issue 13): as a checkpointed runner, like
 * the projections, it folds each event's leaf once, commits its rows and its checkpoint in one transaction (kill-safe:
 * a batch is there whole or not at all), and is rebuilt from position zero by resetting it.
 *
 * Stored as tiles (the layout of C2SP's tlog-tiles, height 8): the tile (level L, index i) holds up to 256 hashes of
 * the perfect subtrees of 256^L leaves that cover leaves [i * 256^(L+1), (i + 1) * 256^(L+1)); level 0 holds the
 * leaves. The tiles on the right edge are partial and grow as leaves come. Any subtree hash a proof needs is then at
 * most 255 node hashes away from stored ones, and a tree of n leaves takes about n * 32 * 256/255 bytes.
 */
export const MERKLE_TREE = 'merkle-tree';
export const MERKLE_TREE_VERSION = 1;
const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;
const HEX_CHARS = 64;
const TREE_KEY = 'tree';
/** Events per batch: one commit of the tiles it touched. */
export const MERKLE_BATCH_EVENTS = 10_000;

/** The tree's summary row: its size, and the position of its last leaf. */
export interface TreeRow {
  readonly size: number;
  readonly lastPosition: string | null;
}

/** One tile: its hashes (hex, concatenated) and, on level 0, the log position of each leaf. */
interface TileRow {
  readonly hashes: string;
  readonly positions?: readonly string[];
}

const tileKey = (level: number, index: number): string => `tile/${level}/${String(index).padStart(12, '0')}`;

function hashesOf(tile: TileRow | undefined): Hash[] {
  if (tile === undefined) return [];
  const hashes: Hash[] = [];
  for (let i = 0; i < tile.hashes.length; i += HEX_CHARS) hashes.push(Buffer.from(tile.hashes.slice(i, i + HEX_CHARS), 'hex'));
  return hashes;
}

/** MTH of a power-of-two count of hashes (a perfect subtree). */
const perfectHash = (hashes: readonly Hash[]): Hash => new LeafList(hashes).subtreeHash(0, hashes.length);

/** The tiles being written: each level's rightmost tile, in memory for a batch, written when the batch commits. */
class TileWriter {
  private readonly tiles = new Map<string, { level: number; hashes: Hash[]; positions?: string[] }>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly readStore: ReadStore,
    private size: number,
  ) {}

  get treeSize(): number {
    return this.size;
  }

  /** Loads the right edge (one partial tile per level) so that appending continues it. */
  async load(): Promise<void> {
    for (let level = 0, width = 1; width <= this.size || level === 0; level += 1, width *= TILE_WIDTH) {
      const nodes = Math.floor(this.size / width);
      const index = Math.floor(nodes / TILE_WIDTH);
      const key = tileKey(level, index);
      const row = await this.readStore.get<TileRow>(MERKLE_TREE, key);
      const hashes = hashesOf(row?.doc);
      if (hashes.length !== nodes % TILE_WIDTH) throw new Error(`the Merkle tree's tile ${key} holds ${hashes.length} hashes, expected ${nodes % TILE_WIDTH}: rebuild it (ledger rebuild --merkle-tree)`);
      this.tiles.set(key, { level, hashes, positions: level === 0 ? [...(row?.doc.positions ?? [])] : undefined });
    }
  }

  add(leaf: Hash, position: bigint): void {
    let hash = leaf;
    let nodes = this.size;
    for (let level = 0; ; level += 1) {
      const key = tileKey(level, Math.floor(nodes / TILE_WIDTH));
      let tile = this.tiles.get(key);
      if (tile === undefined) {
        tile = { level, hashes: [], positions: level === 0 ? [] : undefined };
        this.tiles.set(key, tile);
      }
      tile.hashes.push(hash);
      if (level === 0) tile.positions!.push(position.toString());
      this.dirty.add(key);
      if (tile.hashes.length < TILE_WIDTH) break;
      // A full tile is a perfect subtree one level up.
      hash = perfectHash(tile.hashes);
      nodes = Math.floor(nodes / TILE_WIDTH);
    }
    this.size += 1;
  }

  /** The batch's rows; full tiles leave memory once written. */
  changes(lastPosition: bigint): Map<string, ReadModelRow> {
    const changes = new Map<string, ReadModelRow>();
    for (const key of this.dirty) {
      const tile = this.tiles.get(key)!;
      const doc: TileRow = { hashes: tile.hashes.map((hash) => hash.toString('hex')).join(''), ...(tile.positions ? { positions: tile.positions } : {}) };
      changes.set(key, { key, doc, index: {} });
      if (tile.hashes.length === TILE_WIDTH) this.tiles.delete(key);
    }
    this.dirty.clear();
    const tree: TreeRow = { size: this.size, lastPosition: lastPosition.toString() };
    changes.set(TREE_KEY, { key: TREE_KEY, doc: tree, index: {} });
    return changes;
  }
}

export interface MerkleCatchUpResult {
  readonly size: number;
  readonly lastPosition: bigint | undefined;
  readonly batches: number;
}

/** Folds every event after the tree's checkpoint into it, a batch (one commit) at a time. */
export async function catchUpMerkleTree(store: EventStore, readStore: ReadStore, options: { batchEvents?: number; signal?: AbortSignal } = {}): Promise<MerkleCatchUpResult> {
  const batchEvents = options.batchEvents ?? MERKLE_BATCH_EVENTS;
  let batches = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const checkpoint = await readStore.checkpoint(MERKLE_TREE);
    if (checkpoint !== undefined && checkpoint.version !== MERKLE_TREE_VERSION) throw new Error(`the Merkle tree was written by version ${checkpoint.version}: rebuild it (ledger rebuild --merkle-tree)`);
    const tree = (await readStore.get<TreeRow>(MERKLE_TREE, TREE_KEY))?.doc ?? { size: 0, lastPosition: null };
    const writer = new TileWriter(readStore, tree.size);
    await writer.load();
    const from = checkpoint?.position;
    let last: bigint | undefined;
    let count = 0;
    for await (const event of store.readAll({ fromPosition: from === undefined ? undefined : from + 1n, maxCount: batchEvents })) {
      writer.add(eventLeafHash(event), event.position);
      last = event.position;
      count += 1;
    }
    if (last === undefined) return { size: writer.treeSize, lastPosition: from, batches };
    await readStore.commit(MERKLE_TREE, MERKLE_TREE_VERSION, from, last, writer.changes(last));
    batches += 1;
    if (count < batchEvents) return { size: writer.treeSize, lastPosition: last, batches };
  }
}

/**
 * The stored tree as of `size` leaves (at most what has been folded): its head and proofs. Each question loads the
 * tiles it needs first (found by asking the proof algorithm which subtrees it wants), then answers from memory.
 */
export class StoredMerkleTree {
  private constructor(
    private readonly readStore: ReadStore,
    readonly size: number,
    /** The log position of the last leaf's event; undefined for the empty tree. */
    readonly lastPosition: bigint | undefined,
  ) {}

  /** The tree as folded so far. */
  static async open(readStore: ReadStore): Promise<StoredMerkleTree> {
    const tree = (await readStore.get<TreeRow>(MERKLE_TREE, TREE_KEY))?.doc;
    return new StoredMerkleTree(readStore, tree?.size ?? 0, tree?.lastPosition == null ? undefined : BigInt(tree.lastPosition));
  }

  async head(size: number = this.size): Promise<Hash> {
    this.assertWithin('tree size', size);
    if (size === 0) return emptyTreeHash();
    return this.answer((tree) => treeHead(tree, size));
  }

  async inclusionProof(index: number, size: number): Promise<Hash[]> {
    this.assertWithin('tree size', size);
    return this.answer((tree) => inclusionProof(tree, index, size));
  }

  async consistencyProof(oldSize: number, newSize: number): Promise<Hash[]> {
    this.assertWithin('new tree size', newSize);
    return this.answer((tree) => consistencyProof(tree, oldSize, newSize));
  }

  /** The leaf at `index`, and the log position of its event. */
  async leaf(index: number): Promise<{ hash: Hash; position: bigint }> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf ${index} is not in the tree of ${this.size} leaves`);
    const row = await this.readStore.get<TileRow>(MERKLE_TREE, tileKey(0, Math.floor(index / TILE_WIDTH)));
    const offset = index % TILE_WIDTH;
    return { hash: hashesOf(row?.doc)[offset]!, position: BigInt(row!.doc.positions![offset]!) };
  }

  /** The leaves [from, to) in order, with their events' positions, reading each tile once. */
  async *leaves(from: number, to: number): AsyncGenerator<{ index: number; hash: Hash; position: bigint }> {
    if (!Number.isSafeInteger(from) || from < 0 || to > this.size || from > to) throw new RangeError(`no leaves [${from}, ${to}) in the tree of ${this.size} leaves`);
    for (let tile = Math.floor(from / TILE_WIDTH); tile * TILE_WIDTH < to; tile += 1) {
      const row = (await this.readStore.get<TileRow>(MERKLE_TREE, tileKey(0, tile)))?.doc;
      const hashes = hashesOf(row);
      for (let offset = Math.max(0, from - tile * TILE_WIDTH); offset < hashes.length && tile * TILE_WIDTH + offset < to; offset += 1) {
        yield { index: tile * TILE_WIDTH + offset, hash: hashes[offset]!, position: BigInt(row!.positions![offset]!) };
      }
    }
  }

  /** The index of the leaf of the event at `position`, or undefined when no event of the tree is there. */
  async indexOf(position: bigint): Promise<number | undefined> {
    let low = 0;
    let high = Math.ceil(this.size / TILE_WIDTH) - 1;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const positions = (await this.readStore.get<TileRow>(MERKLE_TREE, tileKey(0, middle)))!.doc.positions!.map(BigInt);
      if (position < positions[0]!) high = middle - 1;
      else if (position > positions[positions.length - 1]!) low = middle + 1;
      else {
        const offset = positions.indexOf(position);
        const index = middle * TILE_WIDTH + offset;
        return offset === -1 || index >= this.size ? undefined : index;
      }
    }
    return undefined;
  }

  private assertWithin(what: string, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) throw new RangeError(`${what} ${size} is beyond the tree's ${this.size} leaves`);
  }

  private async answer<T>(question: (tree: SubtreeHashes) => T): Promise<T> {
    // First pass: which tiles the answer needs. Second: the answer, from those tiles.
    const wanted = new Set<string>();
    question({
      subtreeHash: (start, end) => {
        for (const [level, index] of tilesFor(start, end)) wanted.add(tileKey(level, index));
        return emptyTreeHash();
      },
    });
    const tiles = new Map<string, Hash[]>();
    for (const key of wanted) tiles.set(key, hashesOf((await this.readStore.get<TileRow>(MERKLE_TREE, key))?.doc));
    return question({ subtreeHash: (start, end) => rangeHash(tiles, start, end) });
  }
}

const isPerfect = (start: number, n: number): boolean => isPowerOfTwo(n) && start % n === 0;

/** The perfect aligned subtrees the RFC's split of [start, end) comes down to. */
function perfectParts(start: number, end: number): Array<[number, number]> {
  const n = end - start;
  if (n <= 0) return [];
  if (isPerfect(start, n)) return [[start, n]];
  const k = splitPoint(n);
  return [...perfectParts(start, start + k), ...perfectParts(start + k, end)];
}

/** Where a perfect subtree of `n` = 2^h leaves at `start` is: level floor(h/8), 2^(h mod 8) hashes of one tile. */
function locate(start: number, n: number): { level: number; index: number; offset: number; count: number } {
  const h = Math.round(Math.log2(n));
  const level = Math.floor(h / TILE_HEIGHT);
  const unit = TILE_WIDTH ** level;
  const node = start / unit;
  return { level, index: Math.floor(node / TILE_WIDTH), offset: node % TILE_WIDTH, count: n / unit };
}

function tilesFor(start: number, end: number): Array<[number, number]> {
  return perfectParts(start, end).map(([s, n]) => {
    const { level, index } = locate(s, n);
    return [level, index];
  });
}

function rangeHash(tiles: ReadonlyMap<string, Hash[]>, start: number, end: number): Hash {
  const n = end - start;
  if (n === 0) return emptyTreeHash();
  if (isPerfect(start, n)) {
    const { level, index, offset, count } = locate(start, n);
    const hashes = tiles.get(tileKey(level, index));
    if (hashes === undefined || hashes.length < offset + count) throw new Error(`the Merkle tree lacks leaves ${start} to ${end - 1}`);
    return perfectHash(hashes.slice(offset, offset + count));
  }
  const k = splitPoint(n);
  return nodeHash(rangeHash(tiles, start, start + k), rangeHash(tiles, start + k, end));
}
