import { randomUUID } from 'node:crypto';
import { accountStream, event, incidentStream, priceStream, type DomainEvent } from '@app/domain';
import { eventsToAppend, type EventStore, type EventToAppend } from '@app/event-store';

/**
 * A large valid log written straight to the store (not through the handlers), for the replay figures: accounts
 * opened and funded, then withdrawal lifecycles (requested, approved, settled or rejected), now and then a price,
 * and, so that the loss totals have something to add up (the as-of figures read them), one incident whose
 * unauthorized withdrawals are some of the settled ones, half of them reimbursed. Generated a chunk at a time, so the generator holds no more than one chunk in memory. Adapted from
 * libs/projections/src/testing (ledger-history.ts, recorded.ts), which the build leaves out.
 */
interface Placed {
  readonly streamId: string;
  readonly event: DomainEvent;
}

const START_MS = Date.UTC(2022, 0, 10);
/** The incident of the large log (the as-of figures read its loss totals). */
export const SYNTHETIC_INCIDENT = 'inc-bench';
/** One settled withdrawal in this many is reported as unauthorized (a loss); one loss in two is reimbursed. */
const LOSS_EVERY = 50;

function* syntheticEvents(totalEvents: number, accounts: number): Generator<Placed> {
  let n = 0;
  const at = (): string => new Date(START_MS + n * 1000).toISOString();
  const id = (i: number): string => `big-${String(i).padStart(6, '0')}`;
  for (let i = 0; i < accounts && n < totalEvents; i += 1) {
    const accountId = id(i);
    const stream = accountStream(accountId);
    const opening: DomainEvent[] = [
      event('AccountOpened', { accountId, openedAt: at() }),
      event('TwoFactorEnrolled', { tokenId: 'tok-1', method: 'totp', enrolledAt: at() }),
      event('FundsDeposited', { depositId: 'dep-ETH', asset: 'ETH', amount: '1000000' }),
      event('FundsDeposited', { depositId: 'dep-BTC', asset: 'BTC', amount: '10' }),
      event('AddressWhitelisted', { asset: 'ETH', address: 'addr-ETH', whitelistedAt: at(), holdHours: 0, withdrawableFrom: at() }),
    ];
    for (const e of opening) {
      yield { streamId: stream, event: e };
      n += 1;
    }
  }
  yield { streamId: incidentStream(SYNTHETIC_INCIDENT), event: event('IncidentOpened', { incidentId: SYNTHETIC_INCIDENT, title: 'bench', openedAt: at() }) };
  n += 1;
  let w = 0;
  while (n < totalEvents) {
    if (w % 300 === 0) {
      yield { streamId: priceStream('ETH'), event: event('AssetPriceRecorded', { asset: 'ETH', usd: w % 600 === 0 ? '3129' : '3050.5', recordedAt: at() }) };
      n += 1;
    }
    const stream = accountStream(id(w % accounts));
    const withdrawalId = `w-${w}`;
    yield {
      streamId: stream,
      event: event('WithdrawalRequested', { withdrawalId, asset: 'ETH', amount: '0.001', address: 'addr-ETH', twoFactorTokenId: 'tok-1', requestedAt: at() }),
    };
    yield { streamId: stream, event: event('WithdrawalApproved', { withdrawalId, approvedAt: at() }) };
    yield w % 10 === 9
      ? { streamId: stream, event: event('WithdrawalRejected', { withdrawalId, reason: 'compliance', rejectedAt: at() }) }
      : { streamId: stream, event: event('WithdrawalSettled', { withdrawalId, txHash: `tx-${withdrawalId}`, settledAt: at() }) };
    n += 3;
    if (w % LOSS_EVERY === 0) {
      const loss = { withdrawalId, incidentId: SYNTHETIC_INCIDENT, asset: 'ETH' as const, amount: '0.001' };
      yield { streamId: stream, event: event('UnauthorizedWithdrawalDetected', { ...loss, outcome: 'loss', detectedAt: at() }) };
      n += 1;
      if (w % (2 * LOSS_EVERY) === 0) {
        const { incidentId, asset, amount } = loss;
        yield { streamId: stream, event: event('Reimbursed', { reimbursementId: `r-${w}`, incidentId, asset, amount, reimbursedAt: at() }) };
        n += 1;
      }
    }
    w += 1;
  }
}

function toAppend(item: Placed, index: number): EventToAppend {
  const commandId = `cmd-${index}`;
  const recordedAt = new Date(START_MS + index * 1000).toISOString();
  const origin = { commandId, correlationId: commandId, causationId: commandId, actor: { id: 'bench', role: 'service' }, recordedAt };
  return eventsToAppend([item.event], origin, () => randomUUID())[0]!;
}

/**
 * Appends about `totalEvents` events (a few more at most) to an empty store, many appends per turn of the event
 * loop so the SQLite store commits them together. Returns the head position.
 */
export async function writeSyntheticLog(
  store: EventStore,
  totalEvents: number,
  onProgress?: (written: number) => void,
  appendsPerCommit = 1_000,
): Promise<bigint | undefined> {
  const accounts = Math.max(1, Math.min(10_000, Math.floor(totalEvents / 100)));
  let chunk: Promise<{ position: bigint }>[] = [];
  let index = 0;
  let last: bigint | undefined;
  for (const item of syntheticEvents(totalEvents, accounts)) {
    chunk.push(store.append(item.streamId, [toAppend(item, index)], { expectedRevision: 'any' }));
    index += 1;
    if (chunk.length >= appendsPerCommit) {
      const results = await Promise.all(chunk);
      last = results[results.length - 1]!.position;
      chunk = [];
      onProgress?.(index);
    }
  }
  if (chunk.length > 0) {
    const results = await Promise.all(chunk);
    last = results[results.length - 1]!.position;
  }
  onProgress?.(index);
  return last;
}
