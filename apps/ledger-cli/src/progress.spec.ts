import {
  auditProgressListener,
  BAR_REDRAW_INTERVAL_MS,
  createProgress,
  PLAIN_LINE_INTERVAL_MS,
  progressModeFor,
  type ProgressMode,
  type ProgressStream,
} from './progress';

function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { text(): string } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns,
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}

function withClock(mode: ProgressMode, stream: ProgressStream) {
  let nowMs = 0;
  const reporter = createProgress('verify', { mode, stream, now: () => nowMs });
  return {
    reporter,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

describe('progress', () => {
  it('draws a bar on a terminal, plain lines elsewhere, and nothing with --json', () => {
    expect(progressModeFor(false, { write: () => true, isTTY: true })).toBe('bar');
    expect(progressModeFor(false, { write: () => true })).toBe('lines');
    expect(progressModeFor(true, { write: () => true, isTTY: true })).toBe('silent');
  });

  it('prints a plain line at most every PLAIN_LINE_INTERVAL_MS, with count, percentage and rate', () => {
    const stream = fakeStream(false);
    const { reporter, advance } = withClock('lines', stream);
    advance(PLAIN_LINE_INTERVAL_MS - 1);
    reporter.update(1_000, 10_000);
    expect(stream.text()).toBe('');
    advance(1);
    reporter.update(1_200, 10_000);
    advance(500);
    reporter.update(1_500, 10_000);
    expect(stream.text()).toBe('verify: 1200/10000 events (12%), 600/s\n');
  });

  it('leaves a short run quiet in a log, and ends a long one on the final count', () => {
    const quiet = fakeStream(false);
    const short = withClock('lines', quiet);
    short.reporter.update(10, 10);
    short.reporter.finish();
    expect(quiet.text()).toBe('');

    const stream = fakeStream(false);
    const long = withClock('lines', stream);
    long.advance(PLAIN_LINE_INTERVAL_MS);
    long.reporter.update(500, 1_000);
    long.advance(PLAIN_LINE_INTERVAL_MS);
    long.reporter.update(1_000, 1_000);
    long.reporter.finish();
    long.reporter.finish();
    expect(stream.text().split('\n')).toEqual(['verify: 500/1000 events (50%), 250/s', 'verify: 1000/1000 events (99%), 250/s', 'verify: 1000/1000 events (100%), 250/s', '']);
  });

  it('holds the percentage below 100 until the walk is done, since the total is an estimate', () => {
    const stream = fakeStream(false);
    const { reporter, advance } = withClock('lines', stream);
    advance(PLAIN_LINE_INTERVAL_MS);
    reporter.update(1_000, 1_000);
    expect(stream.text()).toContain('(99%)');
  });

  it('redraws one bar in place on a terminal, fitted to its width, and ends the line when done', () => {
    const stream = fakeStream(true, 60);
    const { reporter, advance } = withClock('bar', stream);
    advance(BAR_REDRAW_INTERVAL_MS);
    reporter.update(250, 1_000);
    advance(BAR_REDRAW_INTERVAL_MS);
    reporter.update(500, 1_000);
    reporter.finish();
    const frames = stream.text().split('\r').filter((frame) => frame !== '');
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^verify \[█+░+\]  25% 250\/1000 events 2500\/s\x1b\[K$/);
    expect(frames[2]).toMatch(/^verify \[█+░+\]  50% 500\/1000 events 2500\/s\x1b\[K\n$/);
    for (const frame of frames) expect(frame.replace('\x1b[K', '').replace('\n', '').length).toBeLessThan(60);
  });

  it('shows count and rate without a percentage when the total is unknown', () => {
    const stream = fakeStream(false);
    const { reporter, advance } = withClock('lines', stream);
    advance(PLAIN_LINE_INTERVAL_MS);
    reporter.update(4_000, undefined);
    expect(stream.text()).toBe('verify: 4000 events, 2000/s\n');
  });

  it('estimates the total of a walk from the positions still ahead of the head', () => {
    const updates: Array<[number, number | undefined]> = [];
    const listener = auditProgressListener({ update: (done, total) => updates.push([done, total]), finish: () => undefined });
    listener({ position: 1_200n, headPosition: 10_000n, events: 1_000 });
    listener({ position: 5n, headPosition: undefined, events: 5 });
    expect(updates).toEqual([
      [1_000, 9_800],
      [5, undefined],
    ]);
  });
});
