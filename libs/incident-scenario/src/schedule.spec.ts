import { DateTime } from 'luxon';
import { ManualClock } from '@app/ledger';
import { Schedule } from './schedule';

const T0 = DateTime.fromISO('2022-01-18T00:00:00Z', { zone: 'utc' });

/** A step whose work ends after a real, random delay, as a proof signed on the thread pool does. */
function slowStep(log: string[], name: string): () => Promise<void> {
  return () => new Promise((resolve) => setTimeout(() => (log.push(name), resolve()), Math.floor(Math.random() * 15)));
}

async function play(proofsRequired: boolean, mayProve: boolean): Promise<string[]> {
  const log: string[] = [];
  const schedule = new Schedule(() => proofsRequired);
  for (const lane of ['a', 'b', 'c', 'd', 'e', 'f']) schedule.at(T0, 'p', lane, 1, slowStep(log, lane), { mayProve });
  await schedule.play(new ManualClock(T0), () => undefined);
  return log;
}

describe('Schedule', () => {
  it('runs the steps of different accounts at one instant side by side, so timing decides their order', async () => {
    const orders = new Set<string>();
    for (let run = 0; run < 10; run += 1) orders.add((await play(false, true)).join(''));
    // Ten runs of six steps in random order coming out the same every time: one chance in 720^9.
    expect(orders.size).toBeGreaterThan(1);
  });

  it('runs a step that may send a proof alone while proofs are required, so the log is the same on every run', async () => {
    for (let run = 0; run < 10; run += 1) expect((await play(true, true)).join('')).toBe('abcdef');
  });

  it('keeps steps that send no proof side by side even while proofs are required', async () => {
    const orders = new Set<string>();
    for (let run = 0; run < 10; run += 1) orders.add((await play(true, false)).join(''));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('asks step by step: a platform step turning the requirement on makes the later steps of its instant run alone', async () => {
    const log: string[] = [];
    let required = false;
    const schedule = new Schedule(() => required);
    schedule.at(T0, 'p', null, 1, async () => {
      required = true;
    });
    for (const lane of ['a', 'b', 'c', 'd', 'e', 'f']) schedule.at(T0, 'p', lane, 1, slowStep(log, lane), { mayProve: true });
    await schedule.play(new ManualClock(T0), () => undefined);
    expect(log.join('')).toBe('abcdef');
  });
});
