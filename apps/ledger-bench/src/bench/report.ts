import { cpus } from 'node:os';
import type { AsOfFigures, AsOfLatency } from './as-of';
import type { DiskFigures } from './disk';
import type { EmmettFigures } from './emmett';
import type { HttpFigures } from './http';
import type { ReplayFigures } from './replay';
import type { PhaseResult, VerificationResult, WorkloadSize } from './workload';

/** The targets the second performance issue sets (this 2-core machine, one run). */
export const TARGETS = {
  /** Sequential commands/s over the same run's single-event commit ceiling (plain better-sqlite3 on this disk). */
  sequential_share_of_commit_ceiling: 0.9,
  concurrent_commands_per_s: 30_000,
  http_requests_per_s: 5_000,
  http_p99_ms: 25,
  replay_events_per_s: 500_000,
  replay_peak_rss_mb: 400,
  /** Our sequential commands/s over Emmett's, on the same workload. */
  sequential_vs_emmett: 10,
} as const;

export interface TreeFigures {
  readonly leaves: number;
  readonly seconds: number;
  readonly leavesPerSecond: number;
}

export interface BenchRun {
  readonly quick: boolean;
  readonly workload: WorkloadSize;
  readonly disk: DiskFigures;
  readonly setupSeconds: number;
  readonly sequential: PhaseResult;
  readonly concurrent: PhaseResult;
  /** The second-factor proof check alone (once per withdrawal and whitelisting). */
  readonly verification: VerificationResult;
  readonly http: HttpFigures;
  readonly emmett: EmmettFigures;
  /** Lines Emmett wrote to the console during its run (the errors it retried), kept out of the output. */
  readonly emmettLogLines: number;
  /** The rebuild of the workload's log. */
  readonly replayWorkload: ReplayFigures;
  /** The rebuild of the large synthetic log (not with --quick). */
  readonly replayLarge: (ReplayFigures & { readonly generatedEvents: number; readonly generationSeconds: number }) | null;
  /** The same rebuild of the large log with the folding on worker threads (not with --quick). */
  readonly replayLargeParallel: ReplayFigures | null;
  /** The Merkle tree folded from nothing over the workload's log, and over the large log (not with --quick). */
  readonly treeWorkload: TreeFigures;
  readonly treeLarge: TreeFigures | null;
  /** As-of reads on the large log, with the snapshots its rebuild took (not with --quick). */
  readonly asOfLarge: AsOfFigures | null;
  readonly elapsedSeconds: number;
}

export function machine() {
  const cpu = cpus();
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** The replay the headline replay figures come from: the large log when there is one, the faster of its two rebuilds. */
function headlineReplay(run: BenchRun): ReplayFigures {
  const { replayLarge, replayLargeParallel } = run;
  if (replayLarge === null) return run.replayWorkload;
  return replayLargeParallel !== null && replayLargeParallel.eventsPerSecond > replayLarge.eventsPerSecond ? replayLargeParallel : replayLarge;
}

function ratio(ours: number, theirs: number): number | null {
  return theirs > 0 ? Math.round((ours / theirs) * 10) / 10 : null;
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

/** The figures as one JSON object (the last line of `--json`), headline figures first. */
export function benchJson(run: BenchRun) {
  const replay = headlineReplay(run);
  const sequentialVsEmmett = ratio(run.sequential.perSecond, run.emmett.sequential.perSecond);
  const shareOfCeiling = run.disk.eventCommitsPerSecond > 0 ? Math.round((run.sequential.perSecond / run.disk.eventCommitsPerSecond) * 1_000) / 1_000 : 0;
  return {
    sequential_commands_per_s: run.sequential.perSecond,
    sequential_share_of_commit_ceiling: shareOfCeiling,
    concurrent_commands_per_s: run.concurrent.perSecond,
    http_requests_per_s: run.http.requestsPerSecond,
    http_p50_ms: run.http.p50Ms,
    http_p99_ms: run.http.p99Ms,
    replay_events_per_s: replay.eventsPerSecond,
    replay_peak_rss_mb: replay.peakRssMb,
    replay_log_events: replay.position,
    replay_workers: replay.workers,
    replay_single_thread_events_per_s: (run.replayLarge ?? run.replayWorkload).eventsPerSecond,
    replay_parallel_events_per_s: run.replayLargeParallel?.eventsPerSecond ?? null,
    as_of_balances_p50_ms: run.asOfLarge?.balancesByPosition.p50Ms ?? null,
    as_of_loss_totals_p50_ms: run.asOfLarge?.lossTotalsByPosition.p50Ms ?? null,
    as_of_loss_totals_by_instant_p50_ms: run.asOfLarge?.lossTotalsByInstant.p50Ms ?? null,
    emmett_sequential_commands_per_s: run.emmett.sequential.perSecond,
    emmett_concurrent_commands_per_s: run.emmett.concurrent.perSecond,
    sequential_vs_emmett: sequentialVsEmmett,
    concurrent_vs_emmett: ratio(run.concurrent.perSecond, run.emmett.concurrent.perSecond),
    merkle_tree_leaves_per_s: (run.treeLarge ?? run.treeWorkload).leavesPerSecond,
    second_factor_verify_us_per_command: run.verification.sequentialMicrosPerProof,
    second_factor_verify_us_per_command_in_flight: run.verification.concurrentMicrosPerProof,
    targets: TARGETS,
    meets_targets: {
      sequential_share_of_commit_ceiling: shareOfCeiling >= TARGETS.sequential_share_of_commit_ceiling,
      concurrent_commands_per_s: run.concurrent.perSecond >= TARGETS.concurrent_commands_per_s,
      http_requests_per_s: run.http.requestsPerSecond >= TARGETS.http_requests_per_s,
      http_p99_ms: run.http.p99Ms <= TARGETS.http_p99_ms,
      replay_events_per_s: replay.eventsPerSecond >= TARGETS.replay_events_per_s,
      replay_peak_rss_mb: replay.peakRssMb <= TARGETS.replay_peak_rss_mb,
      sequential_vs_emmett: sequentialVsEmmett !== null && sequentialVsEmmett >= TARGETS.sequential_vs_emmett,
    },
    /** What plain better-sqlite3 reaches on the same disk: the ceiling of the durable figures above. */
    disk: {
      single_row_commits_per_s: run.disk.singleRowCommitsPerSecond,
      event_commits_per_s: run.disk.eventCommitsPerSecond,
      rows_per_s_at_100_per_commit: run.disk.rowsPerSecondAt100PerCommit,
      events_per_s_at_64_per_commit: run.disk.eventsPerSecondAt64PerCommit,
    },
    quick: run.quick,
    workload: { ...run.workload, setup_s: round(run.setupSeconds) },
    phases: {
      sequential: { ...run.sequential, seconds: round(run.sequential.seconds) },
      concurrent: { ...run.concurrent, seconds: round(run.concurrent.seconds) },
      second_factor_verification: run.verification,
      http: run.http,
      emmett: { ...run.emmett, console_lines: run.emmettLogLines },
      replay_workload_log: run.replayWorkload,
      replay_large_log: run.replayLarge === null ? null : { ...run.replayLarge, generationSeconds: round(run.replayLarge.generationSeconds) },
      replay_large_log_parallel: run.replayLargeParallel,
      merkle_tree_workload_log: { ...run.treeWorkload, seconds: round(run.treeWorkload.seconds) },
      merkle_tree_large_log: run.treeLarge === null ? null : { ...run.treeLarge, seconds: round(run.treeLarge.seconds) },
      as_of_large_log: run.asOfLarge,
    },
    store: 'SQLite (WAL, synchronous=FULL), fresh temporary file',
    machine: machine(),
    elapsed_s: round(run.elapsedSeconds),
  };
}

const n = (value: number): string => value.toLocaleString('en-US');

/** The as-of figures in one paragraph: each read's median and slowest, then what it cost before. */
export function asOfRow(a: AsOfFigures): string {
  const latency = (l: AsOfLatency): string => `${l.p50Ms.toFixed(2)} ms median, ${l.maxMs.toFixed(2)} ms slowest`;
  return (
    `  as-of reads on the large log (${n(a.position)} events, ${n(a.snapshots)} loss-totals snapshots from its rebuild; ${a.balancesByPosition.samples} reads each): ` +
    `balances by position ${latency(a.balancesByPosition)}; loss totals by position ${latency(a.lossTotalsByPosition)}; ` +
    `loss totals by instant ${latency(a.lossTotalsByInstant)} (the first read by instant after the rebuild, which works out the snapshots' high-waters once: ${n(a.firstByInstantMs)} ms)\n` +
    `    (before: a full replay to the middle of the log took ${n(a.fullReplayLossTotalsMs)} ms for the loss totals and ${n(a.fullReplayBalancesMs)} ms for the balances, ` +
    `and finding an instant's position by a scan from the start ${n(a.fullScanPositionAsOfMs)} ms)`
  );
}
const replayMode = (workers: number): string => (workers === 0 ? 'one thread' : `folding on ${workers} worker threads`);

export function benchText(run: BenchRun): string {
  const m = machine();
  const json = benchJson(run);
  const met = json.meets_targets;
  const mark = (ok: boolean, above = false): string => (ok ? 'meets' : above ? 'ABOVE target' : 'BELOW target');
  const { http, emmett, disk } = run;
  const rows: [string, string, string, string][] = [
    ['sequential_commands_per_s', n(run.sequential.perSecond), '', ''],
    [
      'sequential share of the commit ceiling',
      `${(json.sequential_share_of_commit_ceiling * 100).toFixed(1)}%`,
      `>= ${TARGETS.sequential_share_of_commit_ceiling * 100}%`,
      mark(met.sequential_share_of_commit_ceiling),
    ],
    [`concurrent_commands_per_s (${run.workload.inFlight} in flight)`, n(run.concurrent.perSecond), `>= ${n(TARGETS.concurrent_commands_per_s)}`, mark(met.concurrent_commands_per_s)],
    [`http_requests_per_s (${http.connections} connections)`, n(http.requestsPerSecond), `>= ${n(TARGETS.http_requests_per_s)}`, mark(met.http_requests_per_s)],
    ['http_p50_ms', http.p50Ms.toFixed(2), '', ''],
    ['http_p99_ms', http.p99Ms.toFixed(2), `<= ${TARGETS.http_p99_ms}`, mark(met.http_p99_ms, true)],
    [`replay_events_per_s (${replayMode(json.replay_workers)})`, n(json.replay_events_per_s), `>= ${n(TARGETS.replay_events_per_s)}`, mark(met.replay_events_per_s)],
    ['replay_peak_rss_mb', String(json.replay_peak_rss_mb), `<= ${TARGETS.replay_peak_rss_mb}`, mark(met.replay_peak_rss_mb, true)],
    ['emmett sequential_commands_per_s', n(emmett.sequential.perSecond), '', ''],
    ['emmett concurrent_commands_per_s', n(emmett.concurrent.perSecond), '', ''],
    ['sequential vs Emmett', `${json.sequential_vs_emmett ?? '-'}x`, `>= ${TARGETS.sequential_vs_emmett}x`, mark(met.sequential_vs_emmett)],
    ['concurrent vs Emmett', `${json.concurrent_vs_emmett ?? '-'}x`, '', ''],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['figure', 'measured', 'target', ''][c]!.length));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const replayRow = (label: string, r: ReplayFigures): string =>
    `  ${label}: ${n(r.position)} events in ${(r.elapsedMs / 1_000).toFixed(2)} s, ${n(r.eventsPerSecond)} events/s, peak RSS ${r.peakRssMb} MB (child at start ${r.baselineRssMb} MB)`;
  const phase = (label: string, p: PhaseResult): string => `  ${label}: ${n(p.commands)} commands in ${p.seconds.toFixed(2)} s (${p.refused} refused)`;
  return [
    `ledger bench${run.quick ? ' --quick' : ''}: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform}`,
    `  store: SQLite (WAL, synchronous=FULL), fresh temporary file; every command through the real handlers`,
    `  workload: ${n(run.workload.accounts)} accounts opened and funded in ${run.setupSeconds.toFixed(1)} s; ${n(run.workload.withdrawals)} withdrawal requests per phase, round-robin`,
    '',
    line(['figure', 'measured', 'target', '']),
    ...rows.map(line),
    '',
    phase('sequential', run.sequential),
    phase('concurrent', run.concurrent),
    `  second-factor proof check alone (kid, one Ed25519 verify on the thread pool, audience, claims; once per command): ${n(run.verification.proofs)} proofs, ` +
      `${run.verification.sequentialMicrosPerProof} µs each one after another, ${run.verification.concurrentMicrosPerProof} µs each with ${run.workload.inFlight} in flight`,
    `  http: ${n(http.requests)} requests in ${http.seconds.toFixed(2)} s, ${http.non2xx} not 2xx, ${http.errors} errors; ` +
      `mean ${http.meanMs.toFixed(2)} ms, max ${http.maxMs.toFixed(2)} ms (server with keys, validation and the embedded store; ${n(http.accounts)} accounts set up over HTTP in ${http.setupSeconds.toFixed(1)} s)`,
    `  emmett ${emmett.version} (${emmett.settings}): sequential ${n(emmett.sequential.commands)} in ${emmett.sequential.seconds.toFixed(2)} s ` +
      `(${emmett.sequential.refused} refused), ${run.workload.inFlight} in flight ${n(emmett.concurrent.commands)} in ${emmett.concurrent.seconds.toFixed(2)} s ` +
      `(${emmett.concurrent.refused} refused, ${emmett.concurrent.conflicts} version conflicts, ${emmett.concurrent.busy} SQLITE_BUSY retried; ` +
      `${emmett.storeUse}: ${emmett.storeUseNote}); ${run.emmettLogLines} error lines from Emmett kept out of this output`,
    replayRow('replay of the workload log', run.replayWorkload),
    run.replayLarge === null
      ? '  replay of a 1,000,000-event log: skipped (--quick); the replay figures above are from the workload log'
      : `${replayRow('replay of the large log', run.replayLarge)}\n    (log generated in ${run.replayLarge.generationSeconds.toFixed(1)} s; the replay figures above are from it)`,
    run.replayLargeParallel === null ? null : replayRow(`replay of the large log, ${replayMode(run.replayLargeParallel.workers)}`, run.replayLargeParallel),
    run.asOfLarge === null ? null : asOfRow(run.asOfLarge),
    `  Merkle tree folded from nothing (leaf hash of each event's canonical input, tiles committed every 10,000): ` +
      `workload log ${n(run.treeWorkload.leaves)} leaves in ${run.treeWorkload.seconds.toFixed(2)} s, ${n(run.treeWorkload.leavesPerSecond)}/s` +
      (run.treeLarge === null ? '' : `; large log ${n(run.treeLarge.leaves)} leaves in ${run.treeLarge.seconds.toFixed(2)} s, ${n(run.treeLarge.leavesPerSecond)}/s`) +
      `; the HTTP server keeps it live (and signs checkpoints) while the HTTP figures are taken`,
    `  this disk, plain better-sqlite3 (synchronous=FULL): ${n(disk.singleRowCommitsPerSecond)} single-row commits/s, ` +
      `${n(disk.eventCommitsPerSecond)} single-event commits/s on the event store's schema; ${n(disk.rowsPerSecondAt100PerCommit)} rows/s at 100 per commit, ` +
      `${n(disk.eventsPerSecondAt64PerCommit)} events/s at 64 per commit on the event store's schema`,
    `  total ${run.elapsedSeconds.toFixed(1)} s`,
  ]
    .filter((row) => row !== null)
    .join('\n');
}
