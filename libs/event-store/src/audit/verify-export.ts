import type { RecordedEvent } from '../event-store.port';
import { ChainChecker, messageOf } from './chain-checker';
import { FailureList, reportOf, type VerifyReport } from './verify';
import { yieldToEventLoop, YIELD_EVERY_EVENTS } from './audit-walk';

/** A line longer than this is not an exported event (the store refuses events anywhere near it); it is not parsed. */
export const MAX_EXPORT_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Verifies the hash chains of a JSONL export (`ledger export`, one auditEventView per line) without the store: each
 * stream's events must follow, link and hash as verifyEventStore checks them. A line that is not an exported event
 * is an UNREADABLE failure naming its line number, and the walk goes on.
 *
 * What a file alone cannot show: events cut from the end of a stream, or the file cut short. Compare the last
 * position with the ledger's, or check the file against signed checkpoints, for that.
 */
export async function verifyExportLines(lines: AsyncIterable<string> | Iterable<string>, options: { readonly signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const checker = new ChainChecker();
  const failures = new FailureList();
  let held = 0;
  let lineNumber = 0;
  let lastPosition: bigint | undefined;
  for await (const line of lines) {
    lineNumber += 1;
    options.signal?.throwIfAborted();
    if (line.trim() === '') continue;
    const parsed = parseExportedEvent(line);
    if (typeof parsed === 'string') {
      failures.add({ reason: 'UNREADABLE', streamId: undefined, revision: undefined, position: undefined, eventId: undefined, detail: `line ${lineNumber} ${parsed}` });
      continue;
    }
    const failure = checker.check(parsed);
    if (failure === undefined) held += 1;
    else failures.add({ ...failure, detail: `line ${lineNumber}: ${failure.detail}` });
    if (lastPosition === undefined || parsed.position > lastPosition) lastPosition = parsed.position;
    if (lineNumber % YIELD_EVERY_EVENTS === 0) await yieldToEventLoop();
  }
  return reportOf(lastPosition, held, checker, failures);
}

/** The event a line holds, or why it holds none (a phrase that follows "line N"). */
function parseExportedEvent(line: string): RecordedEvent | string {
  if (line.length > MAX_EXPORT_LINE_CHARS) return `is longer than ${MAX_EXPORT_LINE_CHARS} characters: not an exported event`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `is not JSON: ${messageOf(error)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  const { position, streamId, revision, eventId, type, data, metadata } = value as Record<string, unknown>;
  const whole = (field: unknown): bigint | undefined => (typeof field === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(field) ? BigInt(field) : undefined);
  const at = whole(position);
  const rev = whole(revision);
  if (at === undefined) return 'has no position (a whole number as a string)';
  if (rev === undefined) return 'has no revision (a whole number as a string)';
  if (typeof streamId !== 'string' || typeof eventId !== 'string' || typeof type !== 'string') return 'lacks a streamId, eventId or type string';
  return { position: at, revision: rev, streamId, eventId, type, data, metadata } as RecordedEvent;
}
