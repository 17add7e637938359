import { canonicalJson } from '../canonical-json';
import type { EventMetadata, EventStore, RecordedEvent } from '../event-store.port';
import { AuditWalk, type AuditWalkOptions } from './audit-walk';
import { readDiagnosing, type ReadCursor, UnreadableEventError } from './diagnosing-read';

/** A recorded event as JSON: bigints as decimal strings. One line of an export; the body of the HTTP audit reads. */
export interface AuditEventView {
  readonly position: string;
  readonly streamId: string;
  readonly revision: string;
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export function auditEventView(event: RecordedEvent): AuditEventView {
  return {
    position: event.position.toString(),
    streamId: event.streamId,
    revision: event.revision.toString(),
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  };
}

/** One stream, or the whole log. */
export type ExportSelection = { readonly streamId: string } | { readonly all: true };

export interface ExportOptions extends AuditWalkOptions {
  /** Inclusive: events at lower positions are left out. */
  readonly fromPosition?: bigint;
}

export interface ExportSummary {
  /** Lines written. */
  readonly events: number;
  /** The log's last position when the export started; later events are left out, so an export is a fixed prefix. */
  readonly headPosition: bigint | undefined;
}

/**
 * Writes one line per event, in order (log position, or stream revision), each the canonical JSON of its
 * auditEventView: sorted keys, no white space, no line break inside. The same log always exports to the same
 * bytes. `write` receives a line without its line break; returning a promise applies back-pressure. An event the
 * store cannot decode ends the export with an UnreadableEventError naming where it lies.
 */
export async function exportJsonl(
  store: EventStore,
  selection: ExportSelection,
  write: (line: string) => void | Promise<void>,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const walk = new AuditWalk(await store.headPosition(), options);
  const fromPosition = options.fromPosition ?? 0n;
  const streamId = 'streamId' in selection ? selection.streamId : undefined;
  const cursor = exportCursor(store, streamId);
  if (walk.headPosition !== undefined) {
    // A stream is read from its start (only the log can start at a position); the log from fromPosition.
    for await (const item of readDiagnosing(cursor, streamId === undefined ? fromPosition : 0n)) {
      walk.checkAborted();
      if (item.kind === 'unreadable') throw new UnreadableEventError(item, cursor.unit, streamId);
      const event = item.event;
      if (event.position > walk.headPosition) break;
      if (event.position < fromPosition) continue;
      await write(canonicalJson(auditEventView(event)));
      await walk.advance(event);
    }
  }
  walk.finish();
  return { events: walk.events, headPosition: walk.headPosition };
}

function exportCursor(store: EventStore, streamId: string | undefined): ReadCursor {
  if (streamId === undefined) {
    return { unit: 'position', read: (from, maxCount) => store.readAll({ fromPosition: from, maxCount }), keyOf: (event) => event.position };
  }
  return {
    unit: 'revision',
    read: (from, maxCount) => store.readStream(streamId, { fromRevision: from, maxCount }),
    keyOf: (event) => event.revision,
  };
}
