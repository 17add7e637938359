import {
  CommandHandler,
  CommandHandlerStreamVersionConflictRetryOptions,
  InProcessLock,
  isExpectedVersionConflictError,
  type CommandHandlerRetryOptions,
  type Event,
} from '@event-driven-io/emmett';
import {
  getSQLiteEventStore,
  type SQLiteConnection,
  type SQLiteEventStore,
  type SQLiteEventStoreOptions,
} from '@event-driven-io/emmett-sqlite';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchAccountId, runPool, type PhaseResult, type WorkloadSize } from './workload';

/*
 * The bench workload (see ./workload) on Emmett's SQLite event store, written the way an Emmett user writes it:
 * events and an evolve function, a decide function per command, and Emmett's `CommandHandler` (which aggregates the
 * stream, runs the decision and appends with the stream version it read as the expected version).
 *
 * Money is exact: bigint wei in memory, integer strings in events.
 *
 * What 0.38.5 does on a file, which shapes the figures: every store operation (aggregateStream, appendToStream) opens
 * a new node-sqlite3 connection (running PRAGMA journal_mode = WAL on it) and closes it when done, so a command opens
 * two; the close of the last connection checkpoints the WAL into the database and deletes the -wal and -shm files.
 * Measured with strace: about 5 fsyncs and 4 unlinks per command. Synchronous is never set, so it is SQLite's
 * compile-time default (FULL, also in WAL mode, in the sqlite3 5.1.7 build); busy_timeout is node-sqlite3's 1000 ms.
 */

export const EMMETT_VERSION = '0.38.5';
/** The database file inside the folder given to runEmmettWorkload. */
export const EMMETT_DB_FILE = 'emmett.db';

const ASSET = 'ETH';
const ADDRESS = '0xBE4C000000000000000000000000000000000001';
const TOKEN = 'bench-2fa';
const WEI_PER_ETH = 10n ** 18n;
/** 1000 ETH, as in setUpAccounts. */
export const EMMETT_DEPOSIT_WEI = 1_000n * WEI_PER_ETH;
/** 0.001 ETH, as in requestWithdrawal. */
export const EMMETT_WITHDRAWAL_WEI = WEI_PER_ETH / 1_000n;

// ---- events and state -------------------------------------------------------------------------------------------

type AccountOpened = Event<'AccountOpened', { accountId: string }>;
type FundsDeposited = Event<'FundsDeposited', { depositId: string; asset: string; amountWei: string }>;
type TwoFactorEnrolled = Event<'TwoFactorEnrolled', { tokenId: string; method: string }>;
type AddressWhitelisted = Event<'AddressWhitelisted', { asset: string; address: string }>;
type WithdrawalRequested = Event<
  'WithdrawalRequested',
  { withdrawalId: string; asset: string; amountWei: string; address: string; twoFactorTokenId: string }
>;
export type EmmettAccountEvent = AccountOpened | FundsDeposited | TwoFactorEnrolled | AddressWhitelisted | WithdrawalRequested;

export interface EmmettAccount {
  readonly opened: boolean;
  /** Available balance per asset, in wei. */
  readonly available: Readonly<Record<string, bigint>>;
  readonly tokens: readonly string[];
  /** `${asset}:${address}` */
  readonly addresses: readonly string[];
}

const initialState = (): EmmettAccount => ({ opened: false, available: {}, tokens: [], addresses: [] });

function wei(text: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new Error(`not an integer amount of wei: ${text}`);
  return BigInt(text);
}

function evolve(state: EmmettAccount, event: EmmettAccountEvent): EmmettAccount {
  switch (event.type) {
    case 'AccountOpened':
      return { ...state, opened: true };
    case 'FundsDeposited': {
      const { asset, amountWei } = event.data;
      return { ...state, available: { ...state.available, [asset]: (state.available[asset] ?? 0n) + wei(amountWei) } };
    }
    case 'TwoFactorEnrolled':
      return { ...state, tokens: [...state.tokens, event.data.tokenId] };
    case 'AddressWhitelisted':
      return { ...state, addresses: [...state.addresses, `${event.data.asset}:${event.data.address}`] };
    case 'WithdrawalRequested': {
      const { asset, amountWei } = event.data;
      return { ...state, available: { ...state.available, [asset]: (state.available[asset] ?? 0n) - wei(amountWei) } };
    }
  }
}

// ---- decisions --------------------------------------------------------------------------------------------------

/** A business refusal (the command is decided against and nothing is appended). */
export class EmmettRefusal extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const openAccount = (accountId: string) => (state: EmmettAccount): AccountOpened => {
  if (state.opened) throw new EmmettRefusal('ACCOUNT_ALREADY_OPEN');
  return { type: 'AccountOpened', data: { accountId } };
};

const depositFunds = (depositId: string, amount: bigint) => (state: EmmettAccount): FundsDeposited => {
  if (!state.opened) throw new EmmettRefusal('ACCOUNT_NOT_OPEN');
  return { type: 'FundsDeposited', data: { depositId, asset: ASSET, amountWei: amount.toString() } };
};

const enrolTwoFactor = (tokenId: string) => (state: EmmettAccount): TwoFactorEnrolled => {
  if (!state.opened) throw new EmmettRefusal('ACCOUNT_NOT_OPEN');
  return { type: 'TwoFactorEnrolled', data: { tokenId, method: 'totp' } };
};

const whitelistAddress = (address: string) => (state: EmmettAccount): AddressWhitelisted => {
  if (!state.opened) throw new EmmettRefusal('ACCOUNT_NOT_OPEN');
  return { type: 'AddressWhitelisted', data: { asset: ASSET, address } };
};

const requestWithdrawal = (withdrawalId: string, amount: bigint) => (state: EmmettAccount): WithdrawalRequested => {
  if (!state.opened) throw new EmmettRefusal('ACCOUNT_NOT_OPEN');
  if (!state.tokens.includes(TOKEN)) throw new EmmettRefusal('TWO_FACTOR_REQUIRED');
  if (!state.addresses.includes(`${ASSET}:${ADDRESS}`)) throw new EmmettRefusal('ADDRESS_NOT_WHITELISTED');
  if (amount > (state.available[ASSET] ?? 0n)) throw new EmmettRefusal('INSUFFICIENT_FUNDS');
  return {
    type: 'WithdrawalRequested',
    data: { withdrawalId, asset: ASSET, amountWei: amount.toString(), address: ADDRESS, twoFactorTokenId: TOKEN },
  };
};

// ---- the command handler ----------------------------------------------------------------------------------------

/** The same account ids as the ledger's bench. */
export const emmettAccountId = benchAccountId;

/** Emmett derives the stream type from the part of the name before the first '-'. */
const streamName = (accountId: string): string => `account-${accountId}`;

/**
 * `@event-driven-io/emmett-sqlite` bundles its own copy of Emmett's error classes, so the
 * ExpectedVersionConflictError its appendToStream throws is not `instanceof` the class that
 * `isExpectedVersionConflictError` (and so `retry: { onVersionConflict: true }`) checks. Recognise it by its code.
 */
function isVersionConflict(error: unknown): boolean {
  return isExpectedVersionConflictError(error) || (error instanceof Error && (error as { errorCode?: unknown }).errorCode === 412);
}

interface Counters {
  conflict: number;
  busy: number;
  closed: number;
}

function sqliteCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * The errors a retry can get past: version conflicts; SQLITE_BUSY, from a writer that waited out busy_timeout or from
 * "cannot commit transaction - SQL statements in progress" (node-sqlite3 runs a connection's statements in parallel
 * mode, so Emmett's COMMIT can overtake the finalize of its previous statement), also when it is masked as SQLITE_ERROR
 * "cannot rollback - no transaction is active" (BEGIN IMMEDIATE failed, Emmett's withTransaction issued ROLLBACK
 * anyway, and that error replaced the SQLITE_BUSY); and SQLITE_MISUSE "Database (handle) is closed" (another command
 * closed the shared connection).
 */
function transientKind(error: unknown): 'conflict' | 'busy' | 'closed' | undefined {
  if (isVersionConflict(error)) return 'conflict';
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : '';
  if (code === 'SQLITE_BUSY' || (code === 'SQLITE_ERROR' && message.includes('cannot rollback - no transaction is active'))) return 'busy';
  if (code === 'SQLITE_MISUSE' && /is closed/.test(message)) return 'closed';
  return undefined;
}

/**
 * Emmett's own retry policy for version conflicts (CommandHandlerStreamVersionConflictRetryOptions: 3 retries from
 * 100 ms, factor 1.5), passed through CommandHandler's `retry` option and applied to the transient errors above.
 */
function retryPolicy(counters: Counters): CommandHandlerRetryOptions {
  return {
    ...CommandHandlerStreamVersionConflictRetryOptions,
    shouldRetryError: (error: unknown) => {
      const kind = transientKind(error);
      if (kind !== undefined) counters[kind] += 1;
      return kind !== undefined;
    },
  };
}

function accountHandler(counters: Counters) {
  return CommandHandler<EmmettAccount, EmmettAccountEvent>({
    evolve,
    initialState,
    mapToStreamId: streamName,
    retry: retryPolicy(counters),
  });
}

// ---- the workload -----------------------------------------------------------------------------------------------

/**
 * How the commands reach the store.
 * - `one-store`: one `getSQLiteEventStore` for the whole run, shared by every command, as Emmett's docs and samples
 *   do. In 0.38.5 that store keeps one connection variable: an operation opens a connection if there is none and, when
 *   it finishes, closes it and forgets it, even while other commands are still using it (SQLITE_MISUSE "Database
 *   handle is closed"); concurrent appends on that connection also nest into one transaction.
 * - `one-store-serialized`: the same store with every command run under Emmett's `InProcessLock` (one lock id), so
 *   one command at a time reaches the store however many are in flight. The way to use 0.38.5 that holds.
 * - `store-per-command`: a `getSQLiteEventStore` per command, so each command has its own connections and SQLite's
 *   locking orders the writers. With node-sqlite3 the writers waiting in the busy handler occupy the libuv pool's
 *   threads (4 by default) while the writer holding the lock waits for one to COMMIT, until busy_timeout (1 s) fails
 *   them; with UV_THREADPOOL_SIZE=128 the churn of opening and closing connections still makes most commands fail
 *   with SQLITE_BUSY through Emmett's retries (measured: 428 of 500 refused).
 */
export type EmmettStoreUse = 'one-store' | 'one-store-serialized' | 'store-per-command';

const STORE_USE_NOTES: Record<EmmettStoreUse, string> = {
  'one-store': 'one shared SQLiteEventStore, commands concurrent (0.38.5 closes the shared connection under other commands)',
  'one-store-serialized':
    'one shared SQLiteEventStore; commands in flight are queued on an Emmett InProcessLock so one reaches the store at a time ' +
    '(0.38.5 fails commands run concurrently on one store: SQLITE_MISUSE, database handle is closed)',
  'store-per-command': 'a SQLiteEventStore per command, commands concurrent (writers fail with SQLITE_BUSY after busy_timeout)',
};

export interface EmmettPhaseResult extends PhaseResult {
  /** Transient errors met and retried (while retries remained) by CommandHandler: version conflicts, ... */
  readonly conflicts: number;
  /** ... SQLITE_BUSY (also when masked as "cannot rollback - no transaction is active"), ... */
  readonly busy: number;
  /** ... and SQLITE_MISUSE "Database (handle) is closed". */
  readonly closed: number;
  /** Why the refused commands failed, counted: a refusal code, VERSION_CONFLICT, or the SQLite error. */
  readonly failures: Readonly<Record<string, number>>;
}

export interface EmmettFigures {
  readonly sequential: EmmettPhaseResult;
  readonly concurrent: EmmettPhaseResult;
  /** Accounts are set up one after another (one-store cannot take concurrent commands). */
  readonly setupSeconds: number;
  /** The pragmas in effect, read on Emmett's own connection inside an append transaction (onBeforeCommit hook). */
  readonly settings: string;
  readonly version: string;
  readonly storeUse: EmmettStoreUse;
  /** What storeUse means for the figures, in a sentence. */
  readonly storeUseNote: string;
  /** The database file the run used (left in place: the caller owns the folder). */
  readonly fileName: string;
}

export interface EmmettRunOptions {
  /** Default `one-store-serialized`. */
  readonly storeUse?: EmmettStoreUse;
}

function failureKind(error: unknown): string {
  if (error instanceof EmmettRefusal) return error.code;
  if (isVersionConflict(error)) return 'VERSION_CONFLICT';
  if (!(error instanceof Error)) return String(error);
  return sqliteCode(error) === undefined ? error.message : error.message.replace(/^(SQLITE_\w+): \1: /, '$1: ');
}

function phaseResult(commands: number, failures: Record<string, number>, counters: Counters, startedMs: number): EmmettPhaseResult {
  const seconds = (performance.now() - startedMs) / 1_000;
  const refused = Object.values(failures).reduce((sum, n) => sum + n, 0);
  return {
    commands,
    refused,
    seconds,
    perSecond: seconds > 0 ? Math.round(commands / seconds) : 0,
    conflicts: counters.conflict,
    busy: counters.busy,
    closed: counters.closed,
    failures,
  };
}

async function readSettings(connection: SQLiteConnection): Promise<string> {
  const one = async (sql: string): Promise<string> => {
    const row = await connection.querySingle<Record<string, unknown>>(sql);
    return row === null ? '?' : String(Object.values(row)[0]);
  };
  const synchronous = await one('PRAGMA synchronous');
  const names: Record<string, string> = { '0': 'OFF', '1': 'NORMAL', '2': 'FULL', '3': 'EXTRA' };
  return [
    `journal_mode=${(await one('PRAGMA journal_mode')).toUpperCase()}`,
    `synchronous=${names[synchronous] ?? synchronous}`,
    `busy_timeout=${await one('PRAGMA busy_timeout')}ms`,
    `SQLite ${await one('SELECT sqlite_version()')} via sqlite3 (node-sqlite3)`,
  ].join(', ');
}

type Decision = (state: EmmettAccount) => EmmettAccountEvent;
type Execute = (accountIndex: number, decide: Decision) => Promise<unknown>;

const newCounters = (): Counters => ({ conflict: 0, busy: 0, closed: 0 });

function countFailure(failures: Record<string, number>, error: unknown): void {
  const kind = failureKind(error);
  failures[kind] = (failures[kind] ?? 0) + 1;
}

/**
 * Runs the bench workload on Emmett's SQLite event store in a fresh database file in `folder`: each account opened,
 * funded with 1000 ETH, a 2FA token enrolled and an address whitelisted; then `size.withdrawals` requests of
 * 0.001 ETH round-robin over the accounts, awaited one after another, then again with `size.inFlight` pending at once.
 * Each request is one CommandHandler call: aggregate the stream, decide against the balance, append with the stream
 * version read as the expected version.
 */
export async function runEmmettWorkload(
  folder: string,
  size: WorkloadSize,
  onProgress?: (phase: string, done: number) => void,
  options: EmmettRunOptions = {},
): Promise<EmmettFigures> {
  const storeUse = options.storeUse ?? 'one-store-serialized';
  if (size.accounts < 1) throw new Error('emmett bench: at least one account is needed');
  mkdirSync(folder, { recursive: true });
  const fileName = join(folder, EMMETT_DB_FILE);
  if (existsSync(fileName)) throw new Error(`emmett bench: ${fileName} already exists; give an empty folder`);

  let settings: Promise<string> | null = null;
  const storeOptions: SQLiteEventStoreOptions = {
    fileName,
    hooks: {
      // Emmett sets journal_mode=WAL on each connection it opens and never sets synchronous (which SQLite refuses
      // to change inside the transaction this hook runs in), so this records what its connections really get.
      onBeforeCommit: async (_messages, { connection }) => {
        settings ??= readSettings(connection);
        await settings;
      },
    },
  };
  const shared = getSQLiteEventStore(storeOptions);
  // The shared store creates the schema on its first operation (the first set-up command); stores made per command
  // after that skip the step.
  const perCommandOptions: SQLiteEventStoreOptions = { ...storeOptions, schema: { autoMigration: 'None' } };
  const lock = InProcessLock();

  const executor = (counters: Counters): Execute => {
    const handle = accountHandler(counters);
    const execute = (store: SQLiteEventStore, accountIndex: number, decide: Decision) => handle(store, emmettAccountId(accountIndex), decide);
    switch (storeUse) {
      case 'one-store':
        return (accountIndex, decide) => execute(shared, accountIndex, decide);
      case 'one-store-serialized':
        return (accountIndex, decide) => lock.withAcquire(() => execute(shared, accountIndex, decide), { lockId: 'emmett-sqlite-store' });
      case 'store-per-command':
        return (accountIndex, decide) => execute(getSQLiteEventStore(perCommandOptions), accountIndex, decide);
    }
  };

  // Set-up, one account after another; the first command goes through the shared store, which creates the schema.
  const setupCounters = newCounters();
  const setUp = executor(setupCounters);
  const setupFailures: Record<string, number> = {};
  const setupStarted = performance.now();
  await accountHandler(setupCounters)(shared, emmettAccountId(0), openAccount(emmettAccountId(0)));
  for (let i = 0; i < size.accounts; i += 1) {
    try {
      if (i > 0) await setUp(i, openAccount(emmettAccountId(i)));
      await setUp(i, depositFunds('bench-d1', EMMETT_DEPOSIT_WEI));
      await setUp(i, enrolTwoFactor(TOKEN));
      await setUp(i, whitelistAddress(ADDRESS));
    } catch (error) {
      countFailure(setupFailures, error);
    }
    if (i % 50 === 0) onProgress?.('setup', i);
  }
  const setupSeconds = (performance.now() - setupStarted) / 1_000;
  const setupFailed = Object.values(setupFailures).reduce((sum, n) => sum + n, 0);
  if (setupFailed > 0) {
    throw new Error(`emmett bench: ${setupFailed} of ${size.accounts} accounts could not be set up: ${JSON.stringify(setupFailures)}`);
  }

  // Sequential.
  const seqCounters = newCounters();
  const seq = executor(seqCounters);
  const seqFailures: Record<string, number> = {};
  const seqStarted = performance.now();
  for (let i = 0; i < size.withdrawals; i += 1) {
    try {
      await seq(i % size.accounts, requestWithdrawal(`seq-${i}`, EMMETT_WITHDRAWAL_WEI));
    } catch (error) {
      countFailure(seqFailures, error);
    }
    if (i % 250 === 0) onProgress?.('sequential', i);
  }
  const sequential = phaseResult(size.withdrawals, seqFailures, seqCounters, seqStarted);

  // `inFlight` pending at once.
  const parCounters = newCounters();
  const par = executor(parCounters);
  const parFailures: Record<string, number> = {};
  const parStarted = performance.now();
  await runPool(
    size.withdrawals,
    size.inFlight,
    async (i) => {
      try {
        await par(i % size.accounts, requestWithdrawal(`par-${i}`, EMMETT_WITHDRAWAL_WEI));
      } catch (error) {
        countFailure(parFailures, error);
      }
    },
    (done) => onProgress?.('concurrent', done),
  );
  const concurrent = phaseResult(size.withdrawals, parFailures, parCounters, parStarted);

  // Nothing to dispose: SQLiteEventStore 0.38.5 has no close(); on a file it closes its connection after each operation.
  return {
    sequential,
    concurrent,
    setupSeconds,
    settings: settings === null ? 'unknown (nothing was appended)' : await settings,
    version: `@event-driven-io/emmett-sqlite ${EMMETT_VERSION}`,
    storeUse,
    storeUseNote: STORE_USE_NOTES[storeUse],
    fileName,
  };
}

export interface EmmettAccountSummary {
  /** Available ETH, in wei, folded from the stream. */
  readonly availableWei: bigint;
  readonly withdrawals: number;
  readonly streamVersion: bigint;
}

/** Each account as its stream in the database file a run left behind says (read one account after another). */
export async function readEmmettAccounts(fileName: string, accounts: number): Promise<EmmettAccountSummary[]> {
  const store = getSQLiteEventStore({ fileName, schema: { autoMigration: 'None' } });
  const summaries: EmmettAccountSummary[] = [];
  for (let i = 0; i < accounts; i += 1) {
    const { events, currentStreamVersion } = await store.readStream<EmmettAccountEvent>(streamName(emmettAccountId(i)));
    let state = initialState();
    let withdrawals = 0;
    for (const event of events) {
      state = evolve(state, event);
      if (event.type === 'WithdrawalRequested') withdrawals += 1;
    }
    summaries.push({ availableWei: state.available[ASSET] ?? 0n, withdrawals, streamVersion: currentStreamVersion });
  }
  return summaries;
}
