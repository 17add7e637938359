import { ApiProperty } from '@nestjs/swagger';
import type { CommandResult } from '@app/ledger';
import type { FastifyReply } from 'fastify';

export class CommandResponse {
  @ApiProperty({ example: 'account-acct-1001' }) streamId!: string;
  @ApiProperty({ example: '3', description: "the stream's revision after the command (a decimal string)", nullable: true })
  revision!: string | null;
  @ApiProperty({ example: '42', description: 'global position of the last event appended (a decimal string)', nullable: true })
  position!: string | null;
  @ApiProperty({ type: [String] }) eventIds!: string[];
}

/** 201 when the command appended now, 200 when an identical earlier command's result is replayed. */
export function respond(result: CommandResult, response: FastifyReply): CommandResponse {
  response.status(result.replayed ? 200 : 201);
  return {
    streamId: result.streamId,
    revision: result.revision?.toString() ?? null,
    position: result.position?.toString() ?? null,
    eventIds: [...result.eventIds],
  };
}
