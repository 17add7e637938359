import { once } from 'node:events';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { OutputClosedError } from './cli-errors';

/** Where a command writes its result, line by line. A returned promise is back-pressure: wait before the next line. */
export interface LineSink {
  writeLine(line: string): void | Promise<void>;
  /** Everything written is out (and, for a file, on disk under its final name). */
  close(): Promise<void>;
  /** The command failed: drop what is not final (a partial file). */
  abandon(): Promise<void>;
}

/**
 * Lines to stdout, waiting for 'drain' when the pipe is full so that a slow reader never makes the export buffer the
 * log in memory. A reader that goes away (EPIPE) turns the next write into OutputClosedError.
 */
export class StreamLineSink implements LineSink {
  private failure: Error | undefined;
  private readonly onError = (error: Error): void => {
    this.failure = (error as NodeJS.ErrnoException).code === 'EPIPE' ? new OutputClosedError() : error;
  };

  constructor(private readonly output: NodeJS.WritableStream) {
    output.on('error', this.onError);
  }

  writeLine(line: string): void | Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.output.write(`${line}\n`)) return undefined;
    return this.drained();
  }

  async close(): Promise<void> {
    this.output.removeListener('error', this.onError);
    if (this.failure !== undefined) throw this.failure;
  }

  async abandon(): Promise<void> {
    this.output.removeListener('error', this.onError);
  }

  private async drained(): Promise<void> {
    // 'error' and 'close' also end the wait: a broken pipe never drains. once() rejects on 'error'; the error itself
    // is already in this.failure through the listener above.
    // The abort removes the listeners of the events that did not happen, so that waits never pile up listeners.
    const settled = new AbortController();
    const ended = (event: string) => once(this.output, event, { signal: settled.signal }).catch(() => undefined);
    try {
      await Promise.race([ended('drain'), ended('error'), ended('close')]);
    } finally {
      settled.abort();
    }
    if (this.failure !== undefined) throw this.failure;
    if ((this.output as { destroyed?: boolean }).destroyed === true) throw new OutputClosedError();
  }
}

/** Lines are gathered into chunks of this many bytes (about) before a write to the file. */
export const FILE_CHUNK_BYTES = 1_048_576;

/**
 * Lines to a file. They go to `<path>.partial-<pid>` first and are synced and renamed into place only once the
 * command succeeds, so a file under the final name is always a complete export.
 */
export class FileLineSink implements LineSink {
  private chunk: string[] = [];
  private chunkBytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly partialPath: string,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<FileLineSink> {
    const partialPath = `${path}.partial-${process.pid}`;
    return new FileLineSink(await open(partialPath, 'wx'), partialPath, path);
  }

  writeLine(line: string): void | Promise<void> {
    this.chunk.push(line, '\n');
    this.chunkBytes += line.length + 1;
    if (this.chunkBytes >= FILE_CHUNK_BYTES) return this.flush();
    return undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    // Synced before the rename: the final name must never point at data still in the page cache only.
    await this.handle.sync();
    await this.handle.close();
    await rename(this.partialPath, this.path);
  }

  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }

  private async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const text = this.chunk.join('');
    this.chunk = [];
    this.chunkBytes = 0;
    await this.handle.write(text);
  }
}
