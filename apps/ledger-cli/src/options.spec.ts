import { MAX_STREAM_ID_CHARS } from '@app/event-store';
import { InvalidOptionValueError } from './cli-errors';
import { bigintOption, flagOption, parsePosition, parseProjectionName, parseStreamId, PROJECTION_NAMES, stringOption } from './options';

describe('command-line option values', () => {
  it('reads a position as a whole decimal number and refuses anything else as commander refuses a bad value', () => {
    expect(parsePosition('0')).toBe(0n);
    expect(parsePosition('1200')).toBe(1_200n);
    for (const bad of ['-3', '1e3', '1.5', '', ' 7', '12345678901234567890']) {
      expect(() => parsePosition(bad)).toThrow(InvalidOptionValueError);
    }
    // Commander turns this code into "error: option '...' argument '...' is invalid." and a usage exit.
    expect(new InvalidOptionValueError('x').code).toBe('commander.invalidArgument');
  });

  it('bounds a stream id as the store does', () => {
    expect(parseStreamId('account-alice')).toBe('account-alice');
    expect(() => parseStreamId('')).toThrow(InvalidOptionValueError);
    expect(() => parseStreamId('a'.repeat(MAX_STREAM_ID_CHARS + 1))).toThrow(InvalidOptionValueError);
  });

  it('reads parsed options by type only', () => {
    const raw = { stream: 'account-bob', all: true, fromPosition: 5n, json: 'yes' };
    expect(stringOption(raw, 'stream')).toBe('account-bob');
    expect(stringOption(raw, 'all')).toBeUndefined();
    expect(flagOption(raw, 'all')).toBe(true);
    expect(flagOption(raw, 'json')).toBe(false);
    expect(bigintOption(raw, 'fromPosition')).toBe(5n);
  });

  it('accepts the read models the ledger serves as --projection, and lists them when the name is unknown', () => {
    expect(PROJECTION_NAMES).toEqual(['balances', 'incident-ledger', 'loss-totals', 'reimbursements', 'protection-claims', 'risk-alerts']);
    expect(parseProjectionName('loss-totals')).toBe('loss-totals');
    for (const bad of ['', 'Balances', 'balance', 'all']) {
      expect(() => parseProjectionName(bad)).toThrow(new InvalidOptionValueError(`must be one of ${PROJECTION_NAMES.join(', ')} (got ${JSON.stringify(bad)})`));
    }
  });
});
