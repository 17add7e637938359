import { cpus } from 'node:os';
import type { ReplayFigures } from './replay';
import type { PhaseResult, WorkloadSize } from './workload';

/** The targets the issue sets. */
export const TARGETS = {
  sequential_commands_per_s: 5_000,
  concurrent_commands_per_s: 50_000,
  replay_events_per_s: 500_000,
  replay_peak_rss_mb: 400,
} as const;

export const NOT_MEASURED_YET = ['http_requests_per_s (autocannon)', 'http_p50_ms', 'http_p99_ms', 'emmett comparison (same workload on Emmett SQLite event store, ratios)'];

export interface BenchRun {
  readonly quick: boolean;
  readonly workload: WorkloadSize;
  readonly setupSeconds: number;
  readonly sequential: PhaseResult;
  readonly concurrent: PhaseResult;
  /** The rebuild of the workload's log. */
  readonly replayWorkload: ReplayFigures;
  /** The rebuild of the large synthetic log (not with --quick). */
  readonly replayLarge: (ReplayFigures & { readonly generatedEvents: number; readonly generationSeconds: number }) | null;
  readonly elapsedSeconds: number;
}

export function machine() {
  const cpu = cpus();
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** The replay the headline replay figures come from: the large log when there is one. */
function headlineReplay(run: BenchRun): ReplayFigures {
  return run.replayLarge ?? run.replayWorkload;
}

export function benchJson(run: BenchRun) {
  const replay = headlineReplay(run);
  const meets = (value: number, target: number, atMost = false): boolean => (atMost ? value <= target : value >= target);
  return {
    sequential_commands_per_s: run.sequential.perSecond,
    concurrent_commands_per_s: run.concurrent.perSecond,
    replay_events_per_s: replay.eventsPerSecond,
    replay_peak_rss_mb: replay.peakRssMb,
    replay_log_events: replay.position,
    http_requests_per_s: null,
    http_p50_ms: null,
    http_p99_ms: null,
    emmett: null,
    not_measured_yet: NOT_MEASURED_YET,
    targets: TARGETS,
    meets_targets: {
      sequential_commands_per_s: meets(run.sequential.perSecond, TARGETS.sequential_commands_per_s),
      concurrent_commands_per_s: meets(run.concurrent.perSecond, TARGETS.concurrent_commands_per_s),
      replay_events_per_s: meets(replay.eventsPerSecond, TARGETS.replay_events_per_s),
      replay_peak_rss_mb: meets(replay.peakRssMb, TARGETS.replay_peak_rss_mb, true),
    },
    quick: run.quick,
    workload: { ...run.workload, setup_s: round(run.setupSeconds) },
    phases: {
      sequential: { ...run.sequential, seconds: round(run.sequential.seconds) },
      concurrent: { ...run.concurrent, seconds: round(run.concurrent.seconds) },
      replay_workload_log: run.replayWorkload,
      replay_large_log: run.replayLarge === null ? null : { ...run.replayLarge, generationSeconds: round(run.replayLarge.generationSeconds) },
    },
    store: 'SQLite (WAL, synchronous=FULL), fresh temporary file',
    machine: machine(),
    elapsed_s: round(run.elapsedSeconds),
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

const n = (value: number): string => value.toLocaleString('en-US');

export function benchText(run: BenchRun): string {
  const m = machine();
  const json = benchJson(run);
  const mark = (ok: boolean): string => (ok ? 'meets' : 'BELOW target');
  const rows: [string, string, string, string][] = [
    ['sequential_commands_per_s', n(run.sequential.perSecond), `>= ${n(TARGETS.sequential_commands_per_s)}`, mark(json.meets_targets.sequential_commands_per_s)],
    [`concurrent_commands_per_s (${run.workload.inFlight} in flight)`, n(run.concurrent.perSecond), `>= ${n(TARGETS.concurrent_commands_per_s)}`, mark(json.meets_targets.concurrent_commands_per_s)],
    ['replay_events_per_s', n(json.replay_events_per_s), `>= ${n(TARGETS.replay_events_per_s)}`, mark(json.meets_targets.replay_events_per_s)],
    ['replay_peak_rss_mb', String(json.replay_peak_rss_mb), `<= ${TARGETS.replay_peak_rss_mb}`, json.meets_targets.replay_peak_rss_mb ? 'meets' : 'ABOVE target'],
    ['http_requests_per_s / p50 / p99', 'not measured yet', '', ''],
    ['Emmett SQLite comparison', 'not measured yet', '', ''],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['figure', 'measured', 'target', ''][c]!.length));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const replayRow = (label: string, r: ReplayFigures): string =>
    `  ${label}: ${n(r.position)} events in ${(r.elapsedMs / 1_000).toFixed(2)} s, ${n(r.eventsPerSecond)} events/s, peak RSS ${r.peakRssMb} MB (child at start ${r.baselineRssMb} MB)`;
  return [
    `ledger bench${run.quick ? ' --quick' : ''}: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform}`,
    `  store: SQLite (WAL, synchronous=FULL), fresh temporary file; every command through the real handlers`,
    `  workload: ${n(run.workload.accounts)} accounts opened and funded in ${run.setupSeconds.toFixed(1)} s; ${n(run.workload.withdrawals)} withdrawal requests per phase, round-robin`,
    '',
    line(['figure', 'measured', 'target', '']),
    ...rows.map(line),
    '',
    `  sequential: ${n(run.sequential.commands)} commands in ${run.sequential.seconds.toFixed(2)} s (${run.sequential.refused} refused)`,
    `  concurrent: ${n(run.concurrent.commands)} commands in ${run.concurrent.seconds.toFixed(2)} s (${run.concurrent.refused} refused)`,
    replayRow('replay of the workload log', run.replayWorkload),
    run.replayLarge === null
      ? '  replay of a 1,000,000-event log: skipped (--quick); the replay figures above are from the workload log'
      : `${replayRow('replay of the large log', run.replayLarge)}\n    (log generated in ${run.replayLarge.generationSeconds.toFixed(1)} s; the replay figures above are from it)`,
    `  not measured yet: ${NOT_MEASURED_YET.join('; ')}`,
    `  total ${run.elapsedSeconds.toFixed(1)} s`,
  ].join('\n');
}
