import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface AsOfLatency {
  readonly samples: number;
  readonly p50Ms: number;
  readonly maxMs: number;
}

/** As-of reads on the large log, with the snapshots its rebuild took (as-of-child.ts). */
export interface AsOfFigures {
  /** The log's head. */
  readonly position: number;
  /** Loss-totals snapshots the rebuild left. */
  readonly snapshots: number;
  /** An account's balances as of a position: its own stream folded up to it. */
  readonly balancesByPosition: AsOfLatency;
  /** An incident's loss totals as of a position: the snapshot before it, then the events after. */
  readonly lossTotalsByPosition: AsOfLatency;
  /** The same as of an instant: the position found from the snapshot before it, then as above. */
  readonly lossTotalsByInstant: AsOfLatency;
  /** The first read by instant after the rebuild, which works out and stores the snapshots' high-waters (once). */
  readonly firstByInstantMs: number;
  /** What the same reads cost before (once each, at the middle of the log): a replay from position zero. */
  readonly fullReplayLossTotalsMs: number;
  readonly fullReplayBalancesMs: number;
  /** And the instant's position found by a scan from the log's start. */
  readonly fullScanPositionAsOfMs: number;
}

/** Times as-of reads on a log and the read store its rebuild made, in a child process (as-of-child.ts). */
export function asOfInChild(eventStorePath: string, readStorePath: string, signal: AbortSignal): Promise<AsOfFigures> {
  const script = join(__dirname, 'as-of-child.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, eventStorePath, readStorePath], { signal, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`the as-of child failed: ${stderr.trim() || error.message}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]!) as AsOfFigures);
      } catch {
        reject(new Error(`the as-of child printed no result: ${stdout.trim()}`));
      }
    });
  });
}
