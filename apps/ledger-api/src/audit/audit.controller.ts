import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { UnknownStreamError, type AuditEventView, type Hash } from '@app/event-store';
import { AuditReader, type SignedCheckpoint } from '@app/ledger';
import type { StoredMerkleTree } from '@app/projections';
import { AuditEventsQuery, AuditStreamQuery, AuditVerifyQuery, CheckpointsQuery, MerkleConsistencyQuery, MerkleInclusionQuery } from './audit.dto';
import { badRequest } from '../http/validation';
import { Roles } from '../http/roles.decorator';

const DEFAULT_AUDIT_PAGE = 100;
const MAX_AUDIT_PAGE = 1_000;
const STREAM_PARAM = /^[A-Za-z0-9_-]{1,128}$/;

function pageSize(limit: string | undefined): number {
  const size = limit === undefined ? DEFAULT_AUDIT_PAGE : Number(limit);
  if (size > MAX_AUDIT_PAGE) throw badRequest([{ field: 'limit', reasons: [`limit must be a whole number from 1 to ${MAX_AUDIT_PAGE}`] }]);
  return size;
}

interface EventPage {
  readonly events: AuditEventView[];
  /** Pass back as fromRevision / fromPosition for the next page; null when this page reached the end. */
  readonly next: string | null;
}

/**
 * History for auditors: the raw events with their metadata and hash chain, and its verification, so that an auditor
 * can check the log without trusting the read models built from it.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditReader) {}

  @Get('streams/:stream')
  @Roles('auditor')
  @ApiOperation({ summary: "One stream's events in revision order, with metadata (actor, recordedAt, prevHash, hash)" })
  async stream(@Param('stream') stream: string, @Query() query: AuditStreamQuery): Promise<EventPage & { streamId: string }> {
    if (!STREAM_PARAM.test(stream)) throw badRequest([{ field: 'stream', reasons: ['must be a stream name such as account-alice'] }]);
    const limit = pageSize(query.limit);
    const events = await this.audit.streamEvents(stream, BigInt(query.fromRevision ?? '0'), limit + 1);
    const more = events.length > limit;
    return { streamId: stream, events: events.slice(0, limit), next: more ? events[limit]!.revision : null };
  }

  @Get('events')
  @Roles('auditor')
  @ApiOperation({ summary: 'The global log in commit order from a position (inclusive), with metadata' })
  async events(@Query() query: AuditEventsQuery): Promise<EventPage> {
    const limit = pageSize(query.limit);
    const events = await this.audit.logEvents(BigInt(query.fromPosition ?? '0'), limit + 1);
    const more = events.length > limit;
    return { events: events.slice(0, limit), next: more ? events[limit]!.position : null };
  }

  @Get('verify')
  @Roles('auditor')
  @ApiOperation({ summary: 'Walk every stream (or one) and name every event whose hash or link does not hold (up to 100; 404 for a stream that does not exist)' })
  @ApiResponse({ status: 404, description: 'the stream named by `stream` does not exist (`code`: STREAM_NOT_FOUND)' })
  async verify(@Query() query: AuditVerifyQuery) {
    try {
      return await this.audit.verify(query.stream);
    } catch (error) {
      if (error instanceof UnknownStreamError) throw new NotFoundException({ message: error.message, code: error.code });
      throw error;
    }
  }

  @Get('tree')
  @Roles('auditor')
  @ApiOperation({ summary: "The Merkle tree over the log (RFC 9162): its size, head and last event's position (it follows the log about a second behind)" })
  async tree() {
    const tree = await this.audit.merkleTree();
    return { treeSize: tree.size, rootHash: base64(await tree.head()), lastPosition: tree.lastPosition?.toString() ?? null };
  }

  @Get('proofs/inclusion')
  @Roles('auditor')
  @ApiOperation({ summary: "The audit path of an event's leaf in the tree of treeSize leaves (RFC 9162 section 2.1.3), hashes in base64" })
  async inclusion(@Query() query: MerkleInclusionQuery) {
    const tree = await this.audit.merkleTree();
    const treeSize = this.treeSize(tree, query.treeSize, 'treeSize');
    const position = BigInt(query.position);
    const index = await tree.indexOf(position);
    if (index === undefined || index >= treeSize) {
      throw badRequest([{ field: 'position', reasons: [`no event at position ${position} is in the tree of ${treeSize} leaves`] }]);
    }
    const leaf = await tree.leaf(index);
    return {
      position: position.toString(),
      leafIndex: index,
      treeSize,
      leafHash: base64(leaf.hash),
      rootHash: base64(await tree.head(treeSize)),
      inclusionPath: (await tree.inclusionProof(index, treeSize)).map(base64),
    };
  }

  @Get('proofs/consistency')
  @Roles('auditor')
  @ApiOperation({ summary: 'That the tree of `from` leaves is a prefix of the tree of `to` leaves (RFC 9162 section 2.1.4), hashes in base64' })
  async consistency(@Query() query: MerkleConsistencyQuery) {
    const tree = await this.audit.merkleTree();
    const to = this.treeSize(tree, query.to, 'to');
    const from = Number(query.from);
    if (from > to) throw badRequest([{ field: 'from', reasons: [`must be at most to (${to})`] }]);
    return {
      from,
      to,
      fromRoot: base64(await tree.head(from)),
      toRoot: base64(await tree.head(to)),
      consistencyPath: (await tree.consistencyProof(from, to)).map(base64),
    };
  }

  @Get('checkpoint-key')
  @Roles('auditor')
  @ApiOperation({ summary: "The public key (JWK, Ed25519) that verifies the ledger's signed checkpoints: keep a copy outside the ledger" })
  checkpointPublicKey() {
    return this.audit.checkpointPublicKey();
  }

  @Get('checkpoints')
  @Roles('auditor')
  @ApiOperation({ summary: 'The latest signed checkpoints of the Merkle tree, newest first (each a compact JWS with its body)' })
  async checkpoints(@Query() query: CheckpointsQuery): Promise<{ checkpoints: SignedCheckpoint[] }> {
    const limit = pageSize(query.limit);
    return { checkpoints: await this.audit.latestCheckpoints(limit) };
  }

  private treeSize(tree: StoredMerkleTree, raw: string | undefined, field: string): number {
    const size = raw === undefined ? tree.size : Number(raw);
    if (size > tree.size) {
      throw badRequest([{ field, reasons: [`must be at most ${tree.size}, the leaves the tree holds so far (it follows the log about a second behind)`] }]);
    }
    return size;
  }
}

const base64 = (hash: Hash): string => hash.toString('base64');
