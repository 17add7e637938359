import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface ReplayFigures {
  /** The log's head: every position the rebuild went through. */
  readonly position: number;
  readonly eventsFolded: number;
  readonly batches: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** maxRSS of the child process that did the replay, in MB. */
  readonly peakRssMb: number;
  /** maxRSS of that child before it opened anything (Node itself and the modules). */
  readonly baselineRssMb: number;
  /** Fold workers (threads) of the parallel rebuild; 0 for the single-threaded one. */
  readonly workers: number;
}

/**
 * Rebuilds every projection from the log at eventStorePath into a fresh read store, in a child process: on the main
 * thread (workers 0) or with the folding on that many worker threads (rebuildInParallel).
 */
export function replayInChild(eventStorePath: string, readStorePath: string, signal: AbortSignal, workers = 0): Promise<ReplayFigures> {
  const script = join(__dirname, 'replay-child.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, eventStorePath, readStorePath, String(workers)], { signal, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`the replay child failed: ${stderr.trim() || error.message}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]!) as ReplayFigures);
      } catch {
        reject(new Error(`the replay child printed no result: ${stdout.trim()}`));
      }
    });
  });
}
